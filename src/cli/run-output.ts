/**
 * Human output of `runcast run` and `runcast watch`: a line per node as it starts and
 * as it ends (status, duration), loop iterations, node logs, the failing node and its
 * error, skipped nodes, and the final response. On a terminal (and without NO_COLOR)
 * it uses colour and a live spinner line for the running node instead of start lines;
 * anywhere else (a CI log, a pipe) it writes plain lines only.
 */
import type { EventFrame, NodeSummary, RunEvent } from '../protocol/events';

export interface RunOutputOptions {
  out: NodeJS.WritableStream;
  /** Colour and a live spinner line (stdout is a TTY and NO_COLOR is unset). */
  live: boolean;
  /** Spinner frame interval in ms (default 80). */
  spinnerMs?: number;
}

export interface RunOutput {
  /** Render one event frame. */
  frame(frame: EventFrame): void;
  /** A note between events (reconnecting, pausing, …), on its own line. */
  note(text: string): void;
  /** Stop the spinner (the run is over or the command is leaving). */
  stop(): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** `3.2 ms`, `1.25 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${Math.round((ms - min * 60_000) / 1000)} s`;
}

/** A JSON value for a terminal: pretty, each line indented. */
export function formatJson(value: unknown, indent = '    '): string {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  return text
    .split('\n')
    .map((l) => indent + l)
    .join('\n');
}

export function createRunOutput(options: RunOutputOptions): RunOutput {
  const { out, live } = options;
  const paint = (code: string) => (s: string) => (live ? `\x1b[${code}m${s}\x1b[0m` : s);
  const green = paint('32');
  const red = paint('31');
  const yellow = paint('33');
  const cyan = paint('36');
  const dim = paint('2');
  const bold = paint('1');

  const nodes = new Map<string, NodeSummary>();
  const started = new Set<string>();
  /** Nodes running now, innermost last (a loop and its body node). */
  const running: { nodeId: string; label: string; since: number }[] = [];
  let timer: ReturnType<typeof setInterval> | null = null;
  let tick = 0;
  let spinnerShown = false;

  const clearSpinnerLine = () => {
    if (spinnerShown) {
      out.write('\r\x1b[2K');
      spinnerShown = false;
    }
  };
  const line = (text: string) => {
    clearSpinnerLine();
    out.write(text + '\n');
    drawSpinner();
  };
  const drawSpinner = () => {
    const top = running[running.length - 1];
    if (!live || !timer || !top) return;
    out.write(`\r\x1b[2K${cyan(SPINNER[tick++ % SPINNER.length]!)} ${top.label} ${dim(formatDuration(Date.now() - top.since))}`);
    spinnerShown = true;
  };
  const nodeStarted = (nodeId: string, text: string) => {
    running.push({ nodeId, label: text, since: Date.now() });
    if (!live) return;
    if (!timer) {
      timer = setInterval(drawSpinner, options.spinnerMs ?? 80);
      timer.unref?.();
    }
    drawSpinner();
  };
  const nodeEnded = (nodeId: string) => {
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i]!.nodeId !== nodeId) continue;
      running.splice(i, 1);
      break;
    }
    if (running.length === 0) stopSpinner();
  };
  const stopSpinner = () => {
    if (timer) clearInterval(timer);
    timer = null;
    clearSpinnerLine();
  };

  const typeOf = (nodeId: string, fallback?: string) => nodes.get(nodeId)?.type ?? fallback ?? '?';
  const iter = (iteration?: number[]) => (iteration && iteration.length ? ` ${dim(`[item ${iteration.join('.')}]`)}` : '');
  const label = (nodeId: string, type?: string, iteration?: number[]) => `${bold(nodeId)} ${dim(`(${typeOf(nodeId, type)})`)}${iter(iteration)}`;
  const skippedLine = (ids: readonly string[]) => {
    if (ids.length) line(`  ${dim('skipped:')} ${ids.join(', ')}`);
  };

  const render = (ev: RunEvent) => {
    switch (ev.kind) {
      case 'run.started':
        for (const n of ev.nodes) nodes.set(n.id, n);
        line(`${cyan('▶')} ${bold(ev.workflowName)} ${dim(`(${ev.workflowId})`)} · ${ev.nodes.length} nodes · started by ${ev.startedBy}`);
        return;
      case 'node.started':
        started.add(ev.nodeId);
        if (!live) line(`${dim('…')} ${label(ev.nodeId, ev.nodeType, ev.iteration)} started`);
        nodeStarted(ev.nodeId, label(ev.nodeId, ev.nodeType, ev.iteration));
        return;
      case 'node.log': {
        const level = ev.level === 'log' || ev.level === 'info' ? '' : `${ev.level === 'error' ? red(ev.level) : yellow(ev.level)} `;
        for (const text of ev.message.split('\n')) line(`  ${dim('│')} ${dim(ev.nodeId + ':')} ${level}${text}`);
        return;
      }
      case 'node.completed': {
        nodeEnded(ev.nodeId);
        let extra = '';
        if (ev.branch) extra = ` ${dim('→')} ${ev.branch}`;
        const items = (ev.output as { items?: unknown } | null)?.items;
        if (typeOf(ev.nodeId) === 'loop' && Array.isArray(items)) extra = ` ${dim(`${items.length} iteration${items.length === 1 ? '' : 's'}`)}`;
        line(`${green('✓')} ${label(ev.nodeId, undefined, ev.iteration)}${extra} ${dim(formatDuration(ev.durationMs))}`);
        return;
      }
      case 'node.failed': {
        nodeEnded(ev.nodeId);
        line(`${red('✗')} ${label(ev.nodeId, undefined, ev.iteration)} ${red(`${ev.error.code}: ${ev.error.message}`)} ${dim(formatDuration(ev.durationMs))}`);
        if (Array.isArray(ev.error.details)) {
          for (const d of ev.error.details as { path?: unknown; message?: unknown }[]) {
            if (d && typeof d === 'object' && 'message' in d) line(`    ${dim(String(d.path ?? ''))} ${String(d.message)}`);
          }
        } else if (ev.error.details !== undefined) line(`    ${dim('details')} ${JSON.stringify(ev.error.details)}`);
        return;
      }
      case 'node.paused':
        stopSpinner(); // no redraws under the prompt; the next node.started restarts it
        line(`${yellow('⏸')} paused before ${label(ev.nodeId, undefined, ev.iteration)}`);
        return;
      case 'run.completed': {
        running.length = 0;
        stopSpinner();
        const notRun = [...nodes.keys()].filter((id) => !started.has(id));
        line(`${green('✓')} ${bold('run completed')} in ${formatDuration(ev.durationMs)}`);
        skippedLine(notRun);
        line(`  ${dim('response')} ${bold(String(ev.response.status))}`);
        line(formatJson(ev.response.body));
        return;
      }
      case 'run.failed':
        running.length = 0;
        stopSpinner();
        if (ev.failedNodeId) line(`${red('✗')} ${bold('run failed')} at ${label(ev.failedNodeId)}: ${red(`${ev.error.code}: ${ev.error.message}`)} ${dim(`after ${formatDuration(ev.durationMs)}`)}`);
        else line(`${red('✗')} ${bold('run failed')}: ${red(`${ev.error.code}: ${ev.error.message}`)} ${dim(`after ${formatDuration(ev.durationMs)}`)}`);
        skippedLine(ev.skippedNodeIds);
        return;
      case 'run.cancelled':
        running.length = 0;
        stopSpinner();
        line(`${red('■')} ${bold('run cancelled')} by ${ev.cancelledBy} ${dim(`after ${formatDuration(ev.durationMs)}`)}`);
        skippedLine(ev.skippedNodeIds);
        return;
    }
  };

  return {
    frame: (f) => render(f.event),
    note: (text) => line(dim(text)),
    stop: stopSpinner,
  };
}
