/**
 * The run service: where runs begin and are steered. It resolves a workflow (deployed
 * or inline, always within the caller's workspace), records the run, and either
 * executes it here (standard mode, or a job taken from the queue) or hands it to the
 * queue (realtime mode) for whichever executor takes it. Cancel and continue travel
 * over the bus so they reach the executor wherever it runs.
 */
import { nanoid } from 'nanoid';
import type { RunId, RunStatus } from '../protocol/events';
import type { RunInput } from '../protocol/messages';
import { RuncastError } from '../protocol/errors';
import type { Bus, ControlCommand, RunJob, RunMeta } from '../channels/types';
import { validateWorkflow, type CompiledWorkflow } from '../executor/graph';
import { executeRun, Cancellation, type RunOutcome, type SecretSource } from '../executor/executor';
import { NodeError, normaliseRequest, type NodeRegistry, type RunRequest } from '../executor/node-type';
import { matchPath } from '../executor/route';
import type { Redactor } from '../redaction/types';
import { createRunPublisher } from './publisher';
import type { WorkflowCatalog } from './workflow-catalog';

export interface Caller {
  user: string;
  workspace: string;
}

export interface StartRequest {
  workflowId?: string;
  workflow?: unknown;
  input?: RunInput;
  breakpoints?: string[];
  caller: Caller;
}

export interface RunServiceOptions {
  bus: Bus;
  registry: NodeRegistry;
  catalog: WorkflowCatalog;
  secrets: SecretSource;
  /** Makes a redactor for the run's secrets (the loaded ones plus those a run adds). */
  makeRedactor(extraSecrets: readonly string[]): Redactor;
  /** The redactor of the loaded secrets, shared by runs that add none. */
  baseRedactor: Redactor;
  nodeTimeoutMs: number;
  maxFieldBytes: number;
  historyTtlMs: number;
  /** MAX_RUN_EVENTS: a run that emits this many events is stopped and fails with `limit_exceeded`. */
  maxRunEvents: number;
  /** MAX_PAUSE_MS: a run paused at a breakpoint this long is cancelled. */
  maxPauseMs: number;
  onError(message: string, err: unknown): void;
  /** Told when a run executed here ends; the error message is already redacted with the run's secrets. */
  onRunEnded?(summary: { runId: RunId; workflowId: string; status: RunOutcome['status']; error?: { code: string; message: string; nodeId: string | null } }): void;
}

export interface RunService {
  /** Start a realtime run: recorded now, executed by whichever executor takes the job. */
  start(req: StartRequest): Promise<RunId>;
  /** Standard execution: run here and resolve with the outcome (the real response). */
  execute(req: StartRequest & { deployedWorkflow?: CompiledWorkflow; deployedWorkspace?: string }): Promise<{ runId: RunId; outcome: RunOutcome }>;
  /**
   * Execute a job taken from the queue (what an executor worker does). When `leaseLost`
   * aborts (this worker was cut off and the run declared lost), the run is stopped.
   */
  executeJob(job: RunJob, leaseLost?: AbortSignal): Promise<RunOutcome>;
  /**
   * End a run whose executor died (its lease ran out): `run.failed` with `worker_lost`,
   * naming the node that was running and the nodes that never ran. Never re-executes
   * (side effects). A run that already ended is left alone.
   */
  failLostRun(job: RunJob): Promise<void>;
  /** The same for a run known by its id only (a standard run whose gateway died). */
  failLostRunById(runId: RunId): Promise<void>;
  /** A run's metadata if the caller's workspace may see it (else undefined, like a missing run). */
  visibleRun(runId: RunId, workspace: string): Promise<RunMeta | undefined>;
  cancel(runId: RunId, by: string): Promise<void>;
  resume(runId: RunId, step: boolean): Promise<void>;
  /** Runs executing in this process. */
  activeCount(): number;
  /** Resolves when every run executing here has ended, or after `graceMs` (then they are cancelled). */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

/** How many validated definitions an instance keeps (by JSON text). */
const VALIDATION_CACHE_SIZE = 256;

/** How long a cancel for a run no executor has taken yet is remembered. */
const EARLY_CANCEL_KEEP_MS = 10 * 60_000;

interface ActiveRun {
  abort: AbortController;
  waiters: ((v: { step: boolean }) => void)[];
  done: Promise<RunOutcome>;
}

export async function createRunService(opts: RunServiceOptions): Promise<RunService> {
  const { bus, registry, catalog } = opts;
  const active = new Map<RunId, ActiveRun>();

  /**
   * Cancels that arrived before any executor took the run (it is still queued): kept a
   * while so that whichever executor takes it cancels it at once.
   */
  const earlyCancels = new Map<RunId, string>();
  const stopControl = await bus.onControl((cmd: ControlCommand) => {
    const run = active.get(cmd.runId);
    if (!run) {
      if (cmd.type === 'cancel' && !earlyCancels.has(cmd.runId)) {
        earlyCancels.set(cmd.runId, cmd.by);
        setTimeout(() => earlyCancels.delete(cmd.runId), EARLY_CANCEL_KEEP_MS).unref();
      }
      return;
    }
    if (cmd.type === 'cancel') run.abort.abort(new Cancellation(cmd.by));
    else for (const w of run.waiters.splice(0)) w({ step: cmd.step });
  });

  /** Resolve the workflow of a request within the caller's workspace; throws workflow_invalid / not_found. */
  const resolve = async (req: StartRequest): Promise<CompiledWorkflow> => {
    if ((req.workflowId === undefined) === (req.workflow === undefined))
      throw new RuncastError('invalid_message', 'give exactly one of workflowId or workflow', {
        details: [{ path: '/', message: 'exactly one of workflowId or workflow is required' }],
      });
    if (req.workflowId !== undefined) {
      const d = catalog.get(req.caller.workspace, req.workflowId);
      if (!d) throw new RuncastError('not_found', `no deployed workflow "${req.workflowId}"`);
      return d.workflow;
    }
    const result = await validated(req.workflow);
    if (!result.ok) throw new RuncastError('workflow_invalid', 'the workflow definition is invalid', { details: result.problems });
    return result.workflow;
  };

  const requestFor = (wf: CompiledWorkflow, input: RunInput | undefined): RunRequest => {
    const request = normaliseRequest(input);
    const start = wf.nodes.get(wf.startId)!.config as { path?: string } | undefined;
    if (!input?.params && start?.path) request.params = matchPath(start.path, request.path) ?? {};
    return request;
  };

  const record = async (runId: RunId, wf: CompiledWorkflow, caller: Caller) => {
    const meta: RunMeta = {
      runId,
      workflowId: wf.def.id,
      workspace: caller.workspace,
      startedBy: caller.user,
      status: 'running' satisfies RunStatus,
      startedAt: new Date().toISOString(),
      endedAt: null,
      lastSeq: 0,
    };
    await bus.createRun(meta);
  };

  const run = (runId: RunId, wf: CompiledWorkflow, request: RunRequest, breakpoints: string[], startedBy: string, leaseLost?: AbortSignal): Promise<RunOutcome> => {
    const abort = new AbortController();
    leaseLost?.addEventListener('abort', () => abort.abort(new Cancellation('system:lease-lost')), { once: true });
    const early = earlyCancels.get(runId);
    if (early !== undefined) {
      earlyCancels.delete(runId);
      abort.abort(new Cancellation(early));
    }
    const entry: ActiveRun = { abort, waiters: [], done: Promise.resolve(undefined as never) };
    let redactor = opts.baseRedactor;
    const added: string[] = [];
    const publisher = createRunPublisher({
      runId,
      bus,
      redactor: () => redactor,
      maxFieldBytes: opts.maxFieldBytes,
      historyTtlMs: opts.historyTtlMs,
      onError: (err) => opts.onError(`run ${runId}: an event could not be stored`, err),
      // Leave room for the events that end the run: the next node's started and failed, and run.failed.
      maxEvents: Math.max(1, opts.maxRunEvents - 3),
      onLimit: () => abort.abort(new NodeError('limit_exceeded', `the run reached MAX_RUN_EVENTS (${opts.maxRunEvents} events) and was stopped`)),
    });
    entry.done = (async () => {
      try {
        const outcome = await executeRun({
          workflow: wf,
          request,
          breakpoints: new Set(breakpoints),
          startedBy,
          registry,
          secrets: opts.secrets,
          emit: (e) => publisher.emit(e),
          addSecret: (value) => {
            added.push(value);
            redactor = opts.makeRedactor(added);
          },
          control: {
            signal: abort.signal,
            waitForContinue: () => new Promise((resolve) => entry.waiters.push(resolve)),
          },
          nodeTimeoutMs: opts.nodeTimeoutMs,
          maxPauseMs: opts.maxPauseMs,
        });
        await publisher.flushed();
        opts.onRunEnded?.({
          runId,
          workflowId: wf.def.id,
          status: outcome.status,
          ...(outcome.status === 'failed' ? { error: { ...outcome.error, message: redactor.redactText(outcome.error.message) } } : {}),
        });
        return outcome;
      } finally {
        active.delete(runId);
      }
    })();
    active.set(runId, entry);
    return entry.done;
  };

  /**
   * Definitions an executor validated recently, by their JSON text: a realtime run was
   * validated when it was accepted, and the executor (maybe another process) checks it
   * again — the sandbox syntax checks of code nodes make that worth caching.
   */
  const validations = new Map<string, Promise<Awaited<ReturnType<typeof validateWorkflow>>>>();
  const validated = (def: unknown) => {
    const key = JSON.stringify(def);
    let v = validations.get(key);
    if (v) {
      validations.delete(key); // re-insert: most recently used last
    } else {
      v = validateWorkflow(def, registry);
      if (validations.size >= VALIDATION_CACHE_SIZE) validations.delete(validations.keys().next().value!);
    }
    validations.set(key, v);
    return v;
  };

  /** End a run whose executor died with run.failed `worker_lost` (never re-executed). */
  const failLost = async (runId: RunId, knownNodeIds: string[] = []): Promise<void> => {
    const meta = await bus.getRun(runId);
    if (!meta || meta.endedAt || ['succeeded', 'failed', 'cancelled'].includes(meta.status)) return;
    const frames = await bus.history(runId, 0);
    if (frames.some((f) => f.kind === 'run.completed' || f.kind === 'run.failed' || f.kind === 'run.cancelled')) return;
    const first = frames[0];
    const nodeIds =
      first?.kind === 'run.started' ? (JSON.parse(first.text) as { event: { nodes: { id: string }[] } }).event.nodes.map((n) => n.id) : knownNodeIds;
    const started = new Set<string>();
    const finished = new Set<string>();
    for (const f of frames) {
      if (f.kind !== 'node.started' && f.kind !== 'node.completed' && f.kind !== 'node.failed') continue;
      const nodeId = (JSON.parse(f.text) as { event: { nodeId: string } }).event.nodeId;
      (f.kind === 'node.started' ? started : finished).add(nodeId);
    }
    const running = [...started].filter((id) => !finished.has(id)).pop() ?? null;
    const lastSeq = frames.length ? frames[frames.length - 1]!.seq : meta.lastSeq;
    const publisher = createRunPublisher({
      runId, bus, redactor: () => opts.baseRedactor, maxFieldBytes: opts.maxFieldBytes,
      historyTtlMs: opts.historyTtlMs, afterSeq: lastSeq,
      onError: (err) => opts.onError(`run ${runId}: an event could not be stored`, err),
    });
    publisher.emit({
      kind: 'run.failed',
      failedNodeId: running,
      error: { code: 'worker_lost', message: 'the executor running this run stopped (its lease expired); the run was not re-executed' },
      skippedNodeIds: nodeIds.filter((id) => !started.has(id)),
      durationMs: Math.max(0, Date.now() - Date.parse(meta.startedAt)),
    });
    await publisher.flushed();
    };

  return {
    async start(req) {
      const wf = await resolve(req);
      const runId = nanoid();
      await record(runId, wf, req.caller);
      await bus.enqueue({
        runId,
        workflow: wf.def,
        input: req.input ?? {},
        breakpoints: req.breakpoints ?? [],
        startedBy: req.caller.user,
        workspace: req.caller.workspace,
      });
      return runId;
    },
    async execute(req) {
      const wf = req.deployedWorkflow ?? (await resolve(req));
      const runId = nanoid();
      await record(runId, wf, req.caller);
      // Scale-out: a lease, so that the run ends with worker_lost if this instance dies.
      const release = await bus.holdRun?.(runId);
      try {
        const outcome = await run(runId, wf, requestFor(wf, req.input), req.breakpoints ?? [], req.caller.user);
        return { runId, outcome };
      } finally {
        await release?.();
      }
    },
    async executeJob(job, leaseLost) {
      const result = await validated(job.workflow);
      if (!result.ok) {
        // Validated when accepted; a definition refused here means the executor's node types differ.
        const publisher = createRunPublisher({
          runId: job.runId, bus, redactor: () => opts.baseRedactor, maxFieldBytes: opts.maxFieldBytes,
          historyTtlMs: opts.historyTtlMs, onError: (err) => opts.onError(`run ${job.runId}: an event could not be stored`, err),
        });
        const message = `this executor refused the workflow: ${result.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
        publisher.emit({ kind: 'run.failed', failedNodeId: null, error: { code: 'internal', message }, skippedNodeIds: job.workflow.nodes.map((n) => n.id), durationMs: 0 });
        await publisher.flushed();
        return { status: 'failed', error: { code: 'internal', message, nodeId: null } };
      }
      return run(job.runId, result.workflow, requestFor(result.workflow, job.input), job.breakpoints, job.startedBy, leaseLost);
    },
    failLostRun: (job) => failLost(job.runId, job.workflow.nodes.map((n) => n.id)),
    failLostRunById: (runId) => failLost(runId),
    async visibleRun(runId, workspace) {
      const meta = await bus.getRun(runId);
      return meta && meta.workspace === workspace ? meta : undefined;
    },
    cancel: (runId, by) => bus.sendControl({ type: 'cancel', runId, by }),
    resume: (runId, step) => bus.sendControl({ type: 'continue', runId, step }),
    activeCount: () => active.size,
    async drain(graceMs) {
      const all = () => Promise.allSettled([...active.values()].map((r) => r.done));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all().then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        for (const r of active.values()) r.abort.abort(new Cancellation('system:shutdown'));
        await all();
      }
    },
    async close() {
      stopControl();
    },
  };
}
