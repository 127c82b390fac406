/* istanbul ignore file -- inlined into the console page with Function.prototype.toString;
   coverage counters would break it there. */
// (A blank line must follow: TypeScript drops comments attached to an elided `import type`.)

/**
 * The dev console's browser code. `consoleApp` runs in the page, given the client
 * library built by `runcastClientLibrary()` (the very code Node users run): it reads
 * a token (typed in, or `#token=…` in the fragment, never the query string), starts or
 * watches a run and renders it live: nodes in execution order with their status and
 * duration, the timeline, each node's input / resolved config / output / logs in a
 * collapsible JSON viewer (truncated values load on demand), the failing node, the
 * response, the viewer count, and cancel / continue / step.
 *
 * It must stay self-contained: no runtime imports, no references outside its body.
 * Everything from the wire is written with textContent, never as HTML.
 */
import type { runcastClientLibrary } from '../client/client';
import type { RuncastClient, RunHandle, ClientStatus, StatusInfo } from '../client/types';
import type { EventFrame, RunEvent, NodeSummary, EdgeSummary, HttpResponseValue, EventError } from '../protocol/events';
import type { WorkflowDefinition } from '../protocol/workflow';

type Library = ReturnType<typeof runcastClientLibrary>;

export function consoleApp(lib: Library): void {
  type NodeStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'paused';
  type RunState = 'idle' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

  interface Execution {
    iteration?: number[];
    input?: unknown;
    config?: unknown;
    output?: unknown;
    error?: EventError;
    durationMs?: number;
    branch?: string;
    logs: { level: string; message: string; seq: number }[];
    startedAt: number;
  }

  interface NodeView {
    summary: NodeSummary;
    status: NodeStatus;
    executions: Execution[];
    el: HTMLElement;
    durationEl: HTMLElement;
    metaEl: HTMLElement;
    statusEl: HTMLElement;
    errorEl: HTMLElement;
    details: HTMLDetailsElement;
    body: HTMLElement;
    dirty: boolean;
  }

  interface RunView {
    runId: string;
    generation: number;
    state: RunState;
    nodes: Map<string, NodeView>;
    handle: RunHandle | null;
    lastSeq: number;
    startedAtMs: number | null;
  }

  // ---------------------------------------------------------------- DOM helpers
  const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
    const found = document.getElementById(id);
    if (!found) throw new Error(`console: #${id} is missing`);
    return found as T;
  };

  function h<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    attrs: Record<string, string | number | boolean | undefined> = {},
    ...children: (Node | string | null | undefined)[]
  ): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  const fmtDuration = (ms: number | undefined): string => {
    if (ms === undefined) return '';
    if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
    return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  };

  const fmtTime = (iso: string): string => {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  };

  // ---------------------------------------------------------------- elements
  const ui = {
    tokenInput: byId<HTMLInputElement>('token'),
    connectBtn: byId<HTMLButtonElement>('connect'),
    connStatus: byId('conn-status'),
    identity: byId('identity'),
    runIdInput: byId<HTMLInputElement>('run-id'),
    watchBtn: byId<HTMLButtonElement>('watch'),
    modeDeployed: byId<HTMLInputElement>('mode-deployed'),
    modeDefinition: byId<HTMLInputElement>('mode-definition'),
    workflowId: byId<HTMLInputElement>('workflow-id'),
    definition: byId<HTMLTextAreaElement>('definition'),
    input: byId<HTMLTextAreaElement>('input'),
    breakpoints: byId<HTMLInputElement>('breakpoints'),
    startBtn: byId<HTMLButtonElement>('start'),
    formError: byId('form-error'),
    runPanel: byId('run'),
    runTitle: byId('run-title'),
    currentRunId: byId('current-run-id'),
    runStatus: byId('run-status'),
    runDuration: byId('run-duration'),
    viewers: byId('viewers'),
    cancelBtn: byId<HTMLButtonElement>('cancel'),
    continueBtn: byId<HTMLButtonElement>('continue'),
    stepBtn: byId<HTMLButtonElement>('step'),
    failure: byId('failure'),
    runError: byId('run-error'),
    nodes: byId('nodes'),
    timeline: byId('timeline'),
    eventCount: byId('event-count'),
    response: byId('response'),
  };

  // ---------------------------------------------------------------- state
  let client: RuncastClient | null = null;
  let token = '';
  let run: RunView | null = null;
  let generation = 0;

  // ---------------------------------------------------------------- JSON viewer
  const isTruncated = (v: unknown): v is { $truncated: true; ref: string; bytes?: number; preview?: string } =>
    typeof v === 'object' && v !== null && (v as { $truncated?: unknown }).$truncated === true && typeof (v as { ref?: unknown }).ref === 'string';

  function jsonView(value: unknown, depth = 0): Node {
    if (isTruncated(value)) return truncatedView(value, depth);
    if (value === null || typeof value !== 'object') {
      const type = value === null ? 'null' : typeof value;
      return h('span', { class: `j-${type}`, text: value === undefined ? 'undefined' : JSON.stringify(value) });
    }
    const isArray = Array.isArray(value);
    const entries: [string, unknown][] = isArray ? (value as unknown[]).map((v, i) => [String(i), v]) : Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return h('span', { class: 'j-empty', text: isArray ? '[]' : '{}' });
    const details = h('details', { class: 'j-node', open: depth < 2 && entries.length <= 30 });
    details.append(h('summary', { class: 'j-summary', text: isArray ? `[${entries.length}]` : `{${entries.length}}` }));
    const list = h('div', { class: 'j-children' });
    for (const [k, v] of entries) {
      list.append(h('div', { class: 'j-row' }, h('span', { class: 'j-key', text: isArray ? `${k}` : JSON.stringify(k) }), h('span', { class: 'j-colon', text: ': ' }), jsonView(v, depth + 1)));
    }
    details.append(list);
    return details;
  }

  function truncatedView(value: { ref: string; bytes?: number; preview?: string }, depth: number): Node {
    const box = h('div', { class: 'j-truncated', 'data-ref': value.ref });
    const runId = run?.runId;
    box.append(
      h('div', { class: 'j-trunc-head', text: `truncated value (${value.bytes ?? '?'} bytes)` }),
      h('pre', { class: 'j-preview', text: value.preview ?? '' }),
    );
    const btn = h('button', { type: 'button', class: 'load-full', text: 'load full value' });
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      btn.textContent = 'loading…';
      try {
        const res = await fetch(`/v1/runs/${encodeURIComponent(runId ?? '')}/values/${encodeURIComponent(value.ref)}`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
        const full = h('div', { class: 'j-full', 'data-loaded': 'true' }, jsonView(JSON.parse(text), depth));
        box.replaceWith(full);
      } catch (err) {
        btn.disabled = false;
        btn.textContent = 'load full value';
        box.append(h('div', { class: 'error-text', text: `could not load: ${(err as Error).message}` }));
      }
    });
    box.append(btn);
    return box;
  }

  // ---------------------------------------------------------------- connection
  const wsUrl = (): string => `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/v1/ws`;

  function setConnStatus(status: ClientStatus | 'idle', info: StatusInfo = {}): void {
    ui.connStatus.dataset.status = status;
    let text: string = status;
    if (status === 'reconnecting' && info.delayMs !== undefined) text = `reconnecting (attempt ${info.attempt ?? 1})`;
    if (status === 'closed' && info.error) {
      const code = info.error.code;
      text = code === 'unauthorized' || code === 'auth_timeout' ? 'token refused or expired — paste a new one' : `disconnected: ${info.error.message}`;
    }
    ui.connStatus.textContent = text;
  }

  function connect(newToken: string): void {
    token = newToken.trim();
    if (!token) {
      setConnStatus('idle');
      ui.connStatus.textContent = 'enter a token';
      return;
    }
    try {
      sessionStorage.setItem('runcast.token', token);
    } catch {
      // storage may be disabled; the token then lives in memory only
    }
    client?.close();
    ui.identity.textContent = '';
    const c = lib.createClient({
      url: wsUrl(),
      token,
      onStatus: (status, info) => {
        if (client === c) setConnStatus(status, info);
      },
      onError: (err) => console.warn('runcast:', err.code, err.message),
    });
    client = c;
    c.ready().then(
      (ready) => {
        if (client !== c) return;
        ui.identity.textContent = `${ready.user} @ ${ready.workspace} · ${ready.scopes.join(' ')}`;
      },
      () => undefined, // shown through onStatus
    );
    if (run) void watch(run.runId);
  }

  // ---------------------------------------------------------------- runs
  function topoOrder(nodes: NodeSummary[], edges: EdgeSummary[]): NodeSummary[] {
    const index = new Map(nodes.map((n, i) => [n.id, i]));
    const indegree = new Map(nodes.map((n) => [n.id, 0]));
    const next = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
    for (const e of edges) {
      if (!index.has(e.from) || !index.has(e.to)) continue;
      next.get(e.from)!.push(e.to);
      indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
    }
    // Kahn's algorithm; ties keep the definition's order. A loop's body (its `each`
    // edge) comes before what follows it (`done`), as it runs first.
    const ready = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
    const out: NodeSummary[] = [];
    const summaries = new Map(nodes.map((n) => [n.id, n]));
    const edgeRank = (from: string, to: string) => {
      const e = edges.find((x) => x.from === from && x.to === to);
      return e?.when === 'each' || e?.when === 'true' ? 0 : 1;
    };
    while (ready.length) {
      const id = ready.shift()!;
      out.push(summaries.get(id)!);
      const successors = [...next.get(id)!].sort((a, b) => edgeRank(id, a) - edgeRank(id, b) || index.get(a)! - index.get(b)!);
      const newlyReady: string[] = [];
      for (const to of successors) {
        indegree.set(to, indegree.get(to)! - 1);
        if (indegree.get(to) === 0) newlyReady.push(to);
      }
      ready.unshift(...newlyReady); // depth first: a branch stays together
    }
    for (const n of nodes) if (!out.includes(n)) out.push(n); // cycles cannot happen; be safe
    return out;
  }

  function resetRun(runId: string): RunView {
    run?.handle?.unsubscribe().catch(() => undefined);
    generation++;
    run = { runId, generation, state: 'running', nodes: new Map(), handle: null, lastSeq: 0, startedAtMs: null };
    ui.runPanel.hidden = false;
    const empty = document.getElementById('empty-state');
    if (empty) empty.hidden = true;
    ui.currentRunId.textContent = runId;
    ui.runTitle.textContent = 'loading…';
    ui.nodes.replaceChildren();
    ui.timeline.replaceChildren();
    ui.eventCount.textContent = '0';
    ui.response.replaceChildren(h('p', { class: 'muted', text: 'no response yet' }));
    ui.response.removeAttribute('data-status');
    ui.failure.hidden = true;
    ui.failure.replaceChildren();
    ui.runError.hidden = true;
    ui.runError.textContent = '';
    setViewers(undefined);
    setRunState('running');
    ui.runDuration.textContent = '';
    ui.runIdInput.value = runId;
    writeHash(runId);
    return run;
  }

  function setRunState(state: RunState): void {
    if (!run) return;
    run.state = state;
    ui.runStatus.dataset.status = state;
    ui.runStatus.textContent = state;
    const live = state === 'running' || state === 'paused';
    ui.cancelBtn.disabled = !live;
    ui.continueBtn.disabled = state !== 'paused';
    ui.stepBtn.disabled = state !== 'paused';
  }

  function setViewers(n: number | undefined): void {
    ui.viewers.dataset.viewers = n === undefined ? '' : String(n);
    ui.viewers.textContent = n === undefined ? '– viewers' : `${n} viewer${n === 1 ? '' : 's'}`;
  }

  function showRunError(err: unknown): void {
    const e = err as { code?: string; message?: string; details?: unknown };
    ui.runError.hidden = false;
    ui.runError.replaceChildren(h('strong', { text: e.code ?? 'error' }), ` ${e.message ?? String(err)}`);
    if (Array.isArray(e.details)) {
      const list = h('ul', { class: 'problems' });
      for (const p of e.details as { path?: string; message?: string }[]) list.append(h('li', {}, h('code', { text: p.path ?? '/' }), ` ${p.message ?? ''}`));
      ui.runError.append(list);
    }
  }

  async function follow(view: RunView, handle: RunHandle): Promise<void> {
    view.handle = handle;
    handle.onPresence((n) => {
      if (run === view) setViewers(n);
    });
    if (handle.viewers !== undefined) setViewers(handle.viewers);
    try {
      for await (const frame of handle) {
        if (run !== view) return;
        apply(view, frame);
      }
    } catch (err) {
      if (run === view && (err as { code?: string }).code !== 'unsubscribed') showRunError(err);
    }
  }

  async function watch(runId: string): Promise<void> {
    runId = runId.trim();
    if (!runId) return;
    if (!client) {
      showFormError('connect with a token first');
      return;
    }
    const view = resetRun(runId);
    try {
      const handle = await client.subscribe(runId);
      if (run !== view) {
        await handle.unsubscribe();
        return;
      }
      await follow(view, handle);
    } catch (err) {
      if (run === view) showRunError(err);
    }
  }

  function showFormError(text: string, details?: unknown): void {
    ui.formError.hidden = !text;
    ui.formError.replaceChildren(text);
    if (Array.isArray(details)) {
      const list = h('ul', { class: 'problems' });
      for (const p of details as { path?: string; message?: string }[]) list.append(h('li', {}, h('code', { text: p.path ?? '/' }), ` ${p.message ?? ''}`));
      ui.formError.append(list);
    }
  }

  async function startRun(): Promise<void> {
    showFormError('');
    if (!client) return showFormError('connect with a token first');
    let input: unknown;
    try {
      input = ui.input.value.trim() ? JSON.parse(ui.input.value) : undefined;
    } catch (err) {
      return showFormError(`input is not valid JSON: ${(err as Error).message}`);
    }
    if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
      return showFormError('input must be a JSON object: {method, path, headers, query, params, body}');
    }
    const breakpoints = ui.breakpoints.value.split(/[\s,]+/).filter(Boolean);
    let source: { workflowId: string } | { workflow: WorkflowDefinition };
    if (ui.modeDefinition.checked) {
      try {
        source = { workflow: JSON.parse(ui.definition.value) as WorkflowDefinition };
      } catch (err) {
        return showFormError(`the definition is not valid JSON: ${(err as Error).message}`);
      }
    } else {
      const id = ui.workflowId.value.trim();
      if (!id) return showFormError('enter a deployed workflow id');
      source = { workflowId: id };
    }
    ui.startBtn.disabled = true;
    try {
      const handle = await client.run({ ...source, ...(input ? { input: input as object } : {}), breakpoints });
      const view = resetRun(handle.runId);
      void follow(view, handle);
    } catch (err) {
      const e = err as { code?: string; message?: string; details?: unknown };
      showFormError(`${e.code ?? 'error'}: ${e.message ?? String(err)}`, e.details);
    } finally {
      ui.startBtn.disabled = false;
    }
  }

  // ---------------------------------------------------------------- rendering
  function nodeView(summary: NodeSummary): NodeView {
    const statusEl = h('span', { class: 'node-status', text: 'pending' });
    const durationEl = h('span', { class: 'node-duration' });
    const metaEl = h('span', { class: 'node-meta' });
    const errorEl = h('div', { class: 'node-error', hidden: true });
    const body = h('div', { class: 'node-body' });
    const details = h('details', { class: 'node-details' }, h('summary', { text: 'input · config · output · logs' }), body);
    const el = h(
      'li',
      { class: 'node', 'data-node-id': summary.id, 'data-status': 'pending', 'data-type': summary.type },
      h(
        'div',
        { class: 'node-head' },
        h('span', { class: 'dot' }),
        h('span', { class: 'node-id', text: summary.id }),
        h('span', { class: 'node-type', text: summary.type }),
        summary.name ? h('span', { class: 'node-name', text: summary.name }) : null,
        metaEl,
        durationEl,
        statusEl,
      ),
      errorEl,
      details,
    );
    const view: NodeView = { summary, status: 'pending', executions: [], el, durationEl, metaEl, statusEl, errorEl, details, body, dirty: true };
    details.addEventListener('toggle', () => {
      if (details.open && view.dirty) renderDetails(view);
    });
    return view;
  }

  function setNodeStatus(view: NodeView, status: NodeStatus): void {
    view.status = status;
    view.el.dataset.status = status;
    view.statusEl.textContent = status;
  }

  function touch(view: NodeView): void {
    const last = view.executions[view.executions.length - 1];
    view.durationEl.textContent = fmtDuration(last?.durationMs);
    const parts: string[] = [];
    if (view.executions.length > 1) parts.push(`×${view.executions.length}`);
    if (last?.branch) parts.push(`→ ${last.branch}`);
    const logs = view.executions.reduce((n, x) => n + x.logs.length, 0);
    if (logs) parts.push(`${logs} log${logs === 1 ? '' : 's'}`);
    view.metaEl.textContent = parts.join(' · ');
    view.dirty = true;
    if (view.details.open) renderDetails(view);
  }

  function renderDetails(view: NodeView): void {
    view.dirty = false;
    const sections: Node[] = [];
    const many = view.executions.length > 1;
    view.executions.forEach((x, i) => {
      const wrap = h('div', { class: 'execution' });
      if (many) wrap.append(h('div', { class: 'execution-title', text: `execution ${i + 1}${x.iteration ? ` · item ${x.iteration.join('.')}` : ''}` }));
      const section = (title: string, value: unknown, present: boolean) => {
        if (!present) return;
        wrap.append(h('div', { class: 'section' }, h('div', { class: 'section-title', text: title }), h('div', { class: 'json' }, jsonView(value))));
      };
      section('input', x.input, 'input' in x);
      section('config (resolved)', x.config, 'config' in x);
      section('output', x.output, 'output' in x);
      if (x.error) section('error', x.error, true);
      if (x.logs.length) {
        const logs = h('ol', { class: 'logs' });
        for (const l of x.logs) logs.append(h('li', { class: `log log-${l.level}` }, h('span', { class: 'log-level', text: l.level }), h('span', { class: 'log-text', text: l.message })));
        wrap.append(h('div', { class: 'section' }, h('div', { class: 'section-title', text: 'logs' }), logs));
      }
      sections.push(wrap);
    });
    if (!sections.length) sections.push(h('p', { class: 'muted', text: view.status === 'skipped' ? 'not executed' : 'not started yet' }));
    view.body.replaceChildren(...sections);
  }

  const current = (view: NodeView): Execution | undefined => view.executions[view.executions.length - 1];

  function timelineEntry(frame: EventFrame): void {
    const ev = frame.event as RunEvent & { nodeId?: string };
    const detail =
      ev.kind === 'node.failed' ? `${ev.error.code}: ${ev.error.message}`
      : ev.kind === 'node.log' ? ev.message
      : ev.kind === 'node.completed' ? fmtDuration(ev.durationMs)
      : ev.kind === 'run.completed' ? `${ev.response.status} · ${fmtDuration(ev.durationMs)}`
      : ev.kind === 'run.failed' ? `${ev.error.code} · ${fmtDuration(ev.durationMs)}`
      : ev.kind === 'run.cancelled' ? `by ${ev.cancelledBy}`
      : ev.kind === 'run.started' ? ev.workflowName
      : '';
    const li = h(
      'li',
      { class: `tl tl-${ev.kind.replace('.', '-')}`, 'data-seq': frame.seq },
      h('span', { class: 'tl-seq', text: `#${frame.seq}` }),
      h('time', { class: 'tl-time', datetime: frame.time, text: fmtTime(frame.time) }),
      h('span', { class: 'tl-kind', text: ev.kind }),
      h('span', { class: 'tl-node', text: ev.nodeId ?? '' }),
      h('span', { class: 'tl-detail', text: detail, title: detail }),
    );
    const atBottom = ui.timeline.scrollTop + ui.timeline.clientHeight >= ui.timeline.scrollHeight - 4;
    ui.timeline.append(li);
    if (atBottom) ui.timeline.scrollTop = ui.timeline.scrollHeight;
    ui.eventCount.textContent = String(frame.seq);
  }

  function showResponse(response: HttpResponseValue): void {
    ui.response.dataset.status = String(response.status);
    const headers = Object.entries(response.headers ?? {});
    ui.response.replaceChildren(
      h('div', { class: 'response-status' }, h('span', { class: 'http-status', text: String(response.status) })),
      headers.length ? h('div', { class: 'json' }, jsonView(response.headers)) : '',
      h('div', { class: 'json response-body' }, jsonView(response.body)),
    );
  }

  function apply(view: RunView, frame: EventFrame): void {
    view.lastSeq = frame.seq;
    timelineEntry(frame);
    const ev = frame.event;
    const node = 'nodeId' in ev ? view.nodes.get(ev.nodeId) : undefined;
    switch (ev.kind) {
      case 'run.started': {
        view.startedAtMs = Date.parse(frame.time);
        ui.runTitle.textContent = `${ev.workflowName}${ev.workflowName === ev.workflowId ? '' : ` (${ev.workflowId})`} · started by ${ev.startedBy}`;
        ui.nodes.replaceChildren();
        view.nodes.clear();
        for (const summary of topoOrder(ev.nodes, ev.edges)) {
          const nv = nodeView(summary);
          view.nodes.set(summary.id, nv);
          ui.nodes.append(nv.el);
        }
        return;
      }
      case 'node.started': {
        if (!node) return;
        node.executions.push({ input: ev.input, config: ev.config, logs: [], startedAt: Date.now(), ...(ev.iteration ? { iteration: ev.iteration } : {}) });
        setNodeStatus(node, 'running');
        if (view.state === 'paused') setRunState('running');
        touch(node);
        return;
      }
      case 'node.log': {
        if (!node) return;
        let x = current(node);
        if (!x) node.executions.push((x = { logs: [], startedAt: Date.now() }));
        x.logs.push({ level: ev.level, message: ev.message, seq: frame.seq });
        touch(node);
        return;
      }
      case 'node.completed': {
        if (!node) return;
        const x = current(node) ?? (node.executions.push({ logs: [], startedAt: Date.now() }), current(node)!);
        x.output = ev.output;
        x.durationMs = ev.durationMs;
        if (ev.branch) x.branch = ev.branch;
        setNodeStatus(node, 'succeeded');
        touch(node);
        return;
      }
      case 'node.failed': {
        if (!node) return;
        const x = current(node) ?? (node.executions.push({ logs: [], startedAt: Date.now() }), current(node)!);
        x.error = ev.error;
        x.durationMs = ev.durationMs;
        setNodeStatus(node, 'failed');
        node.errorEl.hidden = false;
        node.errorEl.textContent = `${ev.error.code}: ${ev.error.message}`;
        touch(node);
        return;
      }
      case 'node.paused': {
        if (node) setNodeStatus(node, 'paused');
        setRunState('paused');
        return;
      }
      case 'run.completed': {
        for (const nv of view.nodes.values()) if (nv.status === 'pending') setNodeStatus(nv, 'skipped');
        showResponse(ev.response);
        ui.runDuration.textContent = fmtDuration(ev.durationMs);
        setRunState('succeeded');
        return;
      }
      case 'run.failed': {
        for (const id of ev.skippedNodeIds) {
          const nv = view.nodes.get(id);
          if (nv) setNodeStatus(nv, 'skipped');
        }
        const failed = ev.failedNodeId ? view.nodes.get(ev.failedNodeId) : undefined;
        ui.failure.hidden = false;
        ui.failure.replaceChildren(
          h('strong', { text: ev.failedNodeId ? `${ev.failedNodeId} (${failed?.summary.type ?? '?'}) failed` : 'the run failed' }),
          h('span', { text: ` ${ev.error.code}: ${ev.error.message}` }),
          ev.skippedNodeIds.length ? h('div', { class: 'muted', text: `skipped: ${ev.skippedNodeIds.join(', ')}` }) : '',
        );
        if (failed) {
          failed.el.classList.add('culprit');
          failed.el.scrollIntoView({ block: 'nearest' });
        }
        ui.runDuration.textContent = fmtDuration(ev.durationMs);
        setRunState('failed');
        return;
      }
      case 'run.cancelled': {
        for (const id of ev.skippedNodeIds) {
          const nv = view.nodes.get(id);
          if (nv) setNodeStatus(nv, 'skipped');
        }
        // A node interrupted by the cancel never completes.
        for (const nv of view.nodes.values()) if (nv.status === 'running' || nv.status === 'paused') setNodeStatus(nv, 'skipped');
        ui.failure.hidden = false;
        ui.failure.replaceChildren(h('strong', { text: `cancelled by ${ev.cancelledBy}` }));
        ui.runDuration.textContent = fmtDuration(ev.durationMs);
        setRunState('cancelled');
        return;
      }
    }
  }

  /** Live elapsed time of running nodes and of the run. */
  setInterval(() => {
    if (!run || (run.state !== 'running' && run.state !== 'paused')) return;
    if (run.startedAtMs !== null && run.state === 'running') ui.runDuration.textContent = `${fmtDuration(Math.max(0, Date.now() - run.startedAtMs))}…`;
    for (const nv of run.nodes.values()) {
      const x = current(nv);
      if (nv.status === 'running' && x && x.durationMs === undefined) nv.durationEl.textContent = `${fmtDuration(Date.now() - x.startedAt)}…`;
    }
  }, 250);

  // ---------------------------------------------------------------- fragment
  function readHash(): URLSearchParams {
    return new URLSearchParams(location.hash.replace(/^#/, ''));
  }

  function writeHash(runId: string | null): void {
    const params = readHash();
    params.delete('token'); // never leave a token in the address bar or the history
    if (runId) params.set('run', runId);
    else params.delete('run');
    const text = params.toString();
    history.replaceState(null, '', `${location.pathname}${text ? `#${text}` : ''}`);
  }

  function fromHash(): void {
    const params = readHash();
    const hashToken = params.get('token');
    const hashRun = params.get('run');
    if (hashToken || params.has('token')) writeHash(hashRun);
    if (hashToken && hashToken !== token) {
      ui.tokenInput.value = hashToken;
      connect(hashToken);
    }
    if (hashRun && (!run || run.runId !== hashRun)) void watch(hashRun);
  }

  // ---------------------------------------------------------------- wiring
  ui.connectBtn.addEventListener('click', () => connect(ui.tokenInput.value));
  ui.tokenInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') connect(ui.tokenInput.value);
  });
  ui.watchBtn.addEventListener('click', () => void watch(ui.runIdInput.value));
  ui.runIdInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void watch(ui.runIdInput.value);
  });
  ui.startBtn.addEventListener('click', () => void startRun());
  const act = (btn: HTMLButtonElement, fn: (handle: RunHandle) => Promise<void>) =>
    btn.addEventListener('click', async () => {
      const handle = run?.handle;
      if (!handle) return;
      btn.disabled = true;
      try {
        await fn(handle);
      } catch (err) {
        showRunError(err);
        btn.disabled = false;
      }
    });
  act(ui.cancelBtn, (hd) => hd.cancel());
  act(ui.continueBtn, (hd) => hd.continue());
  act(ui.stepBtn, (hd) => hd.continue({ step: true }));
  const syncMode = () => {
    ui.workflowId.disabled = !ui.modeDeployed.checked;
    ui.definition.disabled = !ui.modeDefinition.checked;
  };
  ui.modeDeployed.addEventListener('change', syncMode);
  ui.modeDefinition.addEventListener('change', syncMode);
  syncMode();
  window.addEventListener('hashchange', fromHash);

  // Test and debugging hook (also handy from the devtools).
  (window as unknown as { runcastConsole: unknown }).runcastConsole = {
    get client() {
      return client;
    },
    get runId() {
      return run?.runId ?? null;
    },
    get lastSeq() {
      return run?.lastSeq ?? 0;
    },
  };

  setConnStatus('idle');
  ui.connStatus.textContent = 'not connected';
  let stored: string | null = null;
  try {
    stored = sessionStorage.getItem('runcast.token');
  } catch {
    stored = null;
  }
  const initial = readHash();
  if (!initial.get('token') && stored) {
    ui.tokenInput.value = stored;
    connect(stored);
  }
  fromHash();
}
