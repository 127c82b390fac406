/**
 * The executor core: runs a compiled workflow node by node along its edges and emits
 * the typed run events of PROTOCOL.md section 5 through `emit`. It knows node types
 * only through the registry, and knows nothing of channels, sockets or redaction:
 * whoever calls it decides where events go (the run publisher seals them).
 */
import type { HttpResponseValue, NodeId, RunEvent } from '../protocol/events';
import { NodeError, type NodeContext, type NodeRegistry, type RunRequest, type TemplateScope } from './node-type';
import type { CompiledWorkflow } from './graph';
import { resolveTemplates } from './templates';

/** How the outside world steers a run: cancel (abort) and continue after a pause. */
export interface RunControl {
  /** Aborted when the run is cancelled; `reason` is a `Cancellation`. */
  readonly signal: AbortSignal;
  /** Resolves when the run is continued; `step` asks to pause again before the next node. */
  waitForContinue(): Promise<{ step: boolean }>;
}

export class Cancellation {
  constructor(readonly by: string) {}
}

export interface SecretSource {
  get(name: string): string | undefined;
  names(): string[];
}

export interface ExecuteOptions {
  workflow: CompiledWorkflow;
  request: RunRequest;
  breakpoints: ReadonlySet<string>;
  startedBy: string;
  registry: NodeRegistry;
  secrets: SecretSource;
  /** Called for every event, in order. Must not throw. */
  emit(event: RunEvent): void;
  /** A credential created during the run joins the run's secrets. */
  addSecret(value: string): void;
  control: RunControl;
  /** NODE_TIMEOUT_MS. */
  nodeTimeoutMs: number;
  /** MAX_PAUSE_MS: a run paused this long without a continue is cancelled (`system:pause-timeout`). */
  maxPauseMs?: number;
  now?: () => number;
}

export type RunOutcome =
  | { status: 'succeeded'; response: HttpResponseValue }
  | { status: 'failed'; error: { code: string; message: string; nodeId: string | null } }
  | { status: 'cancelled'; by: string };

/** Stops the walk: a node failed (its `node.failed` was already emitted). */
class NodeFailure {
  constructor(readonly nodeId: string, readonly code: string, readonly message: string) {}
}

const SECRET_REF = /\bsecrets\s*(?:\.\s*([A-Za-z0-9_]+)|\[\s*['"`]([^'"`]+)['"`]\s*\])/g;

/** The secret names a node's config asks for (templates and code alike). */
function secretNamesIn(config: unknown): Set<string> {
  const names = new Set<string>();
  const text = JSON.stringify(config ?? {});
  for (const m of text.matchAll(SECRET_REF)) names.add((m[1] ?? m[2])!);
  return names;
}

function errorOf(err: unknown): { code: string; message: string; details?: unknown } {
  if (err instanceof NodeError) return err.details === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, details: err.details };
  if (err instanceof Error) return { code: 'node_error', message: err.message };
  return { code: 'node_error', message: String(err) };
}

function rejectOnAbort(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * Run a workflow to its end. Never throws: every failure becomes events and an outcome.
 * Emits exactly one terminal event, last.
 */
export async function executeRun(opts: ExecuteOptions): Promise<RunOutcome> {
  const { workflow, registry, control } = opts;
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const started = new Set<NodeId>();
  const outputs: Record<string, unknown> = {};
  let stepping = false;
  const def = workflow.def;

  opts.emit({
    kind: 'run.started',
    workflowId: def.id,
    workflowName: def.name ?? def.id,
    startedBy: opts.startedBy,
    nodes: def.nodes.map((n) => (n.name ? { id: n.id, type: n.type, name: n.name } : { id: n.id, type: n.type })),
    edges: def.edges.map((e) => ({ ...e })),
  });

  const skipped = () => def.nodes.map((n) => n.id).filter((id) => !started.has(id));
  const elapsed = () => Math.round((now() - t0) * 1000) / 1000;

  const withIteration = <T extends object>(ev: T, iteration: number[]): T =>
    iteration.length ? { ...ev, iteration } : ev;

  const pauseIfAsked = async (nodeId: string, iteration: number[]) => {
    if (!stepping && !opts.breakpoints.has(nodeId)) return;
    opts.emit(withIteration({ kind: 'node.paused', nodeId }, iteration));
    const cancelled = rejectOnAbort(control.signal);
    let pauseTimer: NodeJS.Timeout | undefined;
    const tooLong = new Promise<never>((_, reject) => {
      if (opts.maxPauseMs !== undefined) pauseTimer = setTimeout(() => reject(new Cancellation('system:pause-timeout')), opts.maxPauseMs);
    });
    try {
      const { step } = await Promise.race([control.waitForContinue(), cancelled.promise, tooLong]);
      stepping = step;
    } finally {
      clearTimeout(pauseTimer);
      cancelled.dispose();
    }
  };

  /** Run one node (and, for a loop, its body); returns its result. */
  const runNode = async (
    nodeId: string,
    input: unknown,
    frame: { iteration: number[]; item?: unknown; index?: number },
  ): Promise<{ output: unknown; branch?: 'true' | 'false' }> => {
    const def = workflow.nodes.get(nodeId)!;
    const type = registry.get(def.type)!;
    await pauseIfAsked(nodeId, frame.iteration);
    if (control.signal.aborted && control.signal.reason instanceof Cancellation) throw control.signal.reason;

    started.add(nodeId);
    const rawConfig = def.config ?? {};
    const secretNames = secretNamesIn(rawConfig);
    const secrets: Record<string, string> = {};
    for (const name of secretNames) {
      const v = opts.secrets.get(name);
      if (v !== undefined) secrets[name] = v;
    }
    const scope: TemplateScope = { request: opts.request, input, nodes: outputs, secrets };
    if (frame.item !== undefined || frame.index !== undefined) {
      scope.item = frame.item;
      scope.index = frame.index;
    }
    const tNode = now();
    const fail = (err: unknown): never => {
      const error = errorOf(err);
      opts.emit(withIteration({ kind: 'node.failed', nodeId, error, durationMs: Math.round((now() - tNode) * 1000) / 1000 }, frame.iteration));
      throw new NodeFailure(nodeId, error.code, error.message);
    };

    let config: Record<string, unknown>;
    try {
      const raw = type.rawConfigKeys ?? [];
      const toResolve = Object.fromEntries(Object.entries(rawConfig).filter(([k]) => !raw.includes(k)));
      config = { ...rawConfig, ...(resolveTemplates(toResolve, scope) as Record<string, unknown>) };
    } catch (err) {
      opts.emit(withIteration({ kind: 'node.started', nodeId, nodeType: def.type, input, config: rawConfig }, frame.iteration));
      return fail(err);
    }
    opts.emit(withIteration({ kind: 'node.started', nodeId, nodeType: def.type, input, config }, frame.iteration));
    // The run was stopped for a reason that is not a cancel (a limit): this node fails with it.
    if (control.signal.aborted) return fail(control.signal.reason);

    const nodeAbort = new AbortController();
    const onRunAbort = () => nodeAbort.abort(control.signal.reason);
    control.signal.addEventListener('abort', onRunAbort, { once: true });
    const timer = setTimeout(
      () => nodeAbort.abort(new NodeError('timeout', `node "${nodeId}" exceeded its time limit of ${opts.nodeTimeoutMs} ms`)),
      opts.nodeTimeoutMs,
    );
    const aborted = rejectOnAbort(nodeAbort.signal);
    const ctx: NodeContext = {
      nodeId,
      config,
      rawConfig,
      input,
      scope,
      signal: nodeAbort.signal,
      timeoutMs: opts.nodeTimeoutMs,
      log: (level, message) => opts.emit(withIteration({ kind: 'node.log', nodeId, level, message }, frame.iteration)),
      addSecret: (value) => opts.addSecret(value),
      secret: (name) => {
        const v = opts.secrets.get(name);
        if (v === undefined) throw new NodeError('template_error', `secret "${name}" is not defined`);
        return v;
      },
    };
    let result: { output: unknown; branch?: 'true' | 'false' };
    try {
      result = await Promise.race([type.run(ctx), aborted.promise]);
    } catch (err) {
      if (err instanceof Cancellation) throw err;
      return fail(err);
    } finally {
      clearTimeout(timer);
      aborted.dispose();
      control.signal.removeEventListener('abort', onRunAbort);
    }

    if (def.type === 'loop') {
      const items = result.output as unknown[];
      outputs[nodeId] = { items };
      const bodyStart = workflow.next.get(nodeId)!.get('each')!;
      const last: unknown[] = [];
      for (let i = 0; i < items.length; i++) {
        last.push(await walk(bodyStart, items[i], { iteration: [...frame.iteration, i], item: items[i], index: i }));
      }
      result = { output: { items: last } };
    }
    outputs[nodeId] = result.output;
    const completed = {
      kind: 'node.completed' as const,
      nodeId,
      output: result.output,
      durationMs: Math.round((now() - tNode) * 1000) / 1000,
      ...(result.branch ? { branch: result.branch } : {}),
    };
    opts.emit(withIteration(completed, frame.iteration));
    return result;
  };

  /** Walk from a node until an api.response (top level) or a body end (in a loop); returns the last output. */
  const walk = async (from: string, input: unknown, frame: { iteration: number[]; item?: unknown; index?: number }): Promise<unknown> => {
    let current: string | undefined = from;
    let value = input;
    while (current) {
      const res = await runNode(current, value, frame);
      value = res.output;
      const out: Map<string, string> = workflow.next.get(current)!;
      const type: string = workflow.nodes.get(current)!.type;
      current = type === 'condition' ? out.get(res.branch ?? 'false') : type === 'loop' ? out.get('done') : out.get('');
    }
    return value;
  };

  try {
    const last = await walk(workflow.startId, opts.request, { iteration: [] });
    const response = last as HttpResponseValue;
    opts.emit({ kind: 'run.completed', response, durationMs: elapsed() });
    return { status: 'succeeded', response };
  } catch (err) {
    if (err instanceof Cancellation) {
      opts.emit({ kind: 'run.cancelled', cancelledBy: err.by, skippedNodeIds: skipped(), durationMs: elapsed() });
      return { status: 'cancelled', by: err.by };
    }
    if (err instanceof NodeFailure) {
      opts.emit({ kind: 'run.failed', failedNodeId: err.nodeId, error: { code: err.code, message: err.message }, skippedNodeIds: skipped(), durationMs: elapsed() });
      return { status: 'failed', error: { code: err.code, message: err.message, nodeId: err.nodeId } };
    }
    const message = err instanceof Error ? err.message : String(err);
    opts.emit({ kind: 'run.failed', failedNodeId: null, error: { code: 'internal', message }, skippedNodeIds: skipped(), durationMs: elapsed() });
    return { status: 'failed', error: { code: 'internal', message, nodeId: null } };
  }
}
