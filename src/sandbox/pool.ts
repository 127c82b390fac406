/**
 * The sandbox as the gateway uses it: QuickJS evaluation in a small pool of worker
 * threads, the second fence around user code.
 *
 * - Off the main event loop: a runaway evaluation delays nothing but its own worker.
 * - Each worker runs with `resourceLimits` and an empty `env` (process.env is not
 *   shared); it loads QuickJS once and serves one request at a time.
 * - A worker that overruns its wall-clock budget (timeoutMs + graceMs) is terminated
 *   and replaced; its request fails with `timeout`. QuickJS's own interrupt usually
 *   stops runaway code first; the watchdog catches code blocked inside a long built-in.
 * - A worker that dies is replaced; its request fails with `memory_limit` when the
 *   worker's V8 heap ran out, else `code_error`.
 * - Requests queue when every worker is busy, up to `maxQueue`; beyond that they are
 *   refused (`RuncastError` `unavailable`).
 * - An aborted request rejects at once with the signal's reason. A running one is
 *   stopped through a shared flag the QuickJS interrupt handler reads; a worker that
 *   has not answered `graceMs` later is terminated and replaced.
 *
 * Locating the worker: compiled (`dist/src/sandbox/pool.js`), the worker is the
 * compiled `worker.js` next to this file. Run from TypeScript sources (ts-jest), there
 * is no `worker.js`: the worker is started from a small bootstrap that registers the
 * `.ts` files of this directory, transpiled here with the project's `typescript`
 * (a dev dependency, present whenever sources run), and requires `worker.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { RuncastError } from '../protocol/errors';
import { encodeGlobals, parseResultJson, validateLimits } from './codec';
import type { FromWorker, SandboxWorkerData, ToWorker } from './messages';
import type { EvaluateErrorCode, EvaluateRequest, EvaluateResult, Sandbox } from './types';

export interface SandboxPoolOptions {
  /** Worker threads. Default 2. */
  poolSize?: number;
  /** Requests that may wait for a worker; more are refused. Default 1000. */
  maxQueue?: number;
  /** Wall-clock allowance past `timeoutMs` before a worker is terminated; also how long an aborted evaluation may take to stop. Default 1000. */
  graceMs?: number;
  /**
   * Merged over the defaults `{ maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 32, stackSizeMb: 32 }`.
   * QuickJS memory is WebAssembly memory, outside these; the V8 heap holds results and
   * logs on their way out. The large stack is what QuickJS's recursion needs (see quickjs.ts).
   */
  resourceLimits?: ResourceLimits;
  /** QuickJS stack limit in bytes. Default 256 KiB; keep it well under 1/32 of `stackSizeMb`. */
  maxStackBytes?: number;
}

export interface SandboxPoolStats {
  /** Live workers, starting or ready. */
  workers: number;
  /** Workers running a request. */
  busy: number;
  /** Requests waiting for a worker. */
  queued: number;
  /** Workers started since creation. */
  started: number;
  /** Workers terminated by the watchdog or after an abort. */
  terminated: number;
  /** Workers that died on their own. */
  crashed: number;
}

export interface SandboxPool extends Sandbox {
  /**
   * Start every worker and wait until all are ready (otherwise they start on demand).
   * @throws RuncastError `internal` when a worker cannot start; `unavailable` once closed.
   */
  warmUp(): Promise<void>;
  stats(): SandboxPoolStats;
}

/** Budget of a `check` inside its worker (compiling does not run user code). */
const CHECK_BUDGET_MS = 1_000;
const DEFAULT_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 32, stackSizeMb: 32 };
const DEFAULT_MAX_STACK_BYTES = 256 * 1024;

type LostCode = EvaluateErrorCode;

interface Job {
  id: number;
  message: ToWorker;
  /** Wall-clock budget in the worker before it is terminated. */
  budgetMs: number;
  settled: boolean;
  /** The worker answered. */
  answer(reply: Exclude<FromWorker, { type: 'ready' }>): void;
  /** The worker was terminated or died while running it. */
  lost(code: LostCode, detail: string): void;
  reject(err: unknown): void;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  abortFlag: Int32Array;
  ready: boolean;
  readyPromise: Promise<void>;
  markReady(): void;
  failStart(err: Error): void;
  job?: Job;
  timer?: NodeJS.Timeout;
  /** Terminated on purpose or exited: ignore whatever it still says. */
  gone: boolean;
  lastError?: Error;
}

/**
 * Create the worker-pool sandbox. Workers start on first use (or on `warmUp`) and are
 * unreferenced while idle, so an idle pool does not keep the process alive; `close()`
 * terminates them.
 *
 * `evaluate` rejects (instead of answering with an `EvaluateResult`) with: a TypeError
 * or RangeError for a malformed request (globals that are not JSON, limits out of
 * range), the signal's reason when aborted, `RuncastError` `unavailable` when the
 * queue is full or the pool closed, `internal` when no worker can start.
 */
export function createSandboxPool(options: SandboxPoolOptions = {}): SandboxPool {
  const poolSize = Math.max(1, Math.floor(options.poolSize ?? 2));
  const maxQueue = Math.max(0, Math.floor(options.maxQueue ?? 1000));
  const graceMs = Math.max(0, options.graceMs ?? 1000);
  const resourceLimits: ResourceLimits = { ...DEFAULT_RESOURCE_LIMITS, ...options.resourceLimits };
  const maxStackBytes = options.maxStackBytes ?? DEFAULT_MAX_STACK_BYTES;

  const slots: Slot[] = [];
  const queue: Job[] = [];
  const counters = { started: 0, terminated: 0, crashed: 0 };
  let nextId = 1;
  let closed = false;
  let closing: Promise<void> | undefined;

  const closedError = (): RuncastError => new RuncastError('unavailable', 'the sandbox is closed');

  function spawn(): Slot {
    const abortBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const worker = startWorker({ abortBuffer, maxStackBytes }, resourceLimits);
    let markReady!: () => void;
    let failStart!: (err: Error) => void;
    const readyPromise = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    readyPromise.catch(() => undefined); // observed by warmUp() when it asks
    const slot: Slot = { worker, abortFlag: new Int32Array(abortBuffer), ready: false, readyPromise, markReady, failStart, gone: false };
    slots.push(slot);
    counters.started++;
    worker.on('message', (message: FromWorker) => onMessage(slot, message));
    worker.on('error', (err: Error) => {
      slot.lastError = err;
    });
    worker.on('exit', (exitCode: number) => onExit(slot, exitCode));
    return slot;
  }

  function onMessage(slot: Slot, message: FromWorker): void {
    if (slot.gone) return;
    if (message.type === 'ready') {
      slot.ready = true;
      slot.markReady();
      if (!slot.job) slot.worker.unref();
      pump();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    clearTimeout(slot.timer);
    slot.job = undefined;
    job.slot = undefined;
    slot.worker.unref();
    job.answer(message);
    pump();
  }

  function onExit(slot: Slot, exitCode: number): void {
    if (slot.gone) return;
    retire(slot);
    counters.crashed++;
    const reason = slot.lastError?.message ?? `exit code ${exitCode}`;
    if (!slot.ready) {
      const err = new RuncastError('internal', `the sandbox worker could not start: ${reason}`, { cause: slot.lastError });
      slot.failStart(err);
      // Without any other worker to wait for, waiting requests would wait forever.
      if (slots.length === 0) for (const job of queue.splice(0)) job.reject(err);
      return;
    }
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      const outOfMemory = (slot.lastError as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      job.lost(outOfMemory ? 'memory_limit' : 'code_error', outOfMemory ? 'the sandbox worker ran out of memory' : `the sandbox worker died: ${reason}`);
    }
    replace();
  }

  /** Forget a slot and stop its worker (no-op when already gone). */
  function retire(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    clearTimeout(slot.timer);
    const index = slots.indexOf(slot);
    if (index >= 0) slots.splice(index, 1);
    void slot.worker.terminate();
  }

  function replace(): void {
    if (closed) return;
    if (slots.length < poolSize) spawn();
    pump();
  }

  /** The watchdog: the worker overran its budget (or did not stop after an abort). */
  function kill(slot: Slot): void {
    const job = slot.job;
    slot.job = undefined;
    retire(slot);
    counters.terminated++;
    job?.lost('timeout', '');
    replace();
  }

  function dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    job.slot = slot;
    slot.worker.ref();
    slot.timer = setTimeout(() => kill(slot), job.budgetMs);
    slot.worker.postMessage(job.message);
  }

  function pump(): void {
    if (closed) return;
    while (queue.length > 0) {
      const slot = slots.find((s) => s.ready && !s.job);
      if (!slot) break;
      dispatch(slot, queue.shift()!);
    }
    const starting = slots.filter((s) => !s.ready).length;
    for (let missing = queue.length - starting; missing > 0 && slots.length < poolSize; missing--) spawn();
  }

  function abort(job: Job, reason: unknown): void {
    if (job.settled) return;
    job.reject(reason);
    const queued = queue.indexOf(job);
    if (queued >= 0) {
      queue.splice(queued, 1);
      return;
    }
    const slot = job.slot;
    if (!slot || slot.gone) return;
    // Ask the interrupt handler to stop it; terminate the worker if it does not answer in time.
    Atomics.store(slot.abortFlag, 0, job.id);
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => kill(slot), graceMs);
  }

  /** Queue a job, or refuse it when the queue is full; the returned promise settles with it. */
  function submit<T>(
    message: (id: number) => ToWorker,
    budgetMs: number,
    signal: AbortSignal | undefined,
    handlers: { answer(reply: Exclude<FromWorker, { type: 'ready' }>): T; lost(code: LostCode, detail: string): T },
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (closed) throw closedError();
      if (signal?.aborted) throw signal.reason;
      const idle = slots.some((s) => s.ready && !s.job);
      if (!idle && queue.length >= maxQueue) {
        throw new RuncastError('unavailable', `the sandbox is busy: ${queue.length} requests already wait for a worker`);
      }
      const id = nextId;
      nextId = nextId >= 0x7fffffff ? 1 : nextId + 1;
      const onAbort = (): void => abort(job, signal!.reason);
      const settle = (fn: () => void): void => {
        if (job.settled) return;
        job.settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const job: Job = {
        id,
        message: message(id),
        budgetMs,
        settled: false,
        answer: (reply) =>
          settle(() => {
            try {
              resolve(handlers.answer(reply));
            } catch (err) {
              reject(err);
            }
          }),
        lost: (code, detail) => settle(() => resolve(handlers.lost(code, detail))),
        reject: (err) => settle(() => reject(err)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(job);
      pump();
    });
  }

  const pool: SandboxPool = {
    evaluate(req: EvaluateRequest): Promise<EvaluateResult> {
      let globalsJson: string;
      try {
        validateLimits(req.timeoutMs, req.memoryMb);
        globalsJson = encodeGlobals(req.globals);
      } catch (err) {
        return Promise.reject(err);
      }
      const { kind, code, timeoutMs, memoryMb } = req;
      return submit<EvaluateResult>(
        (id) => ({ type: 'evaluate', id, kind, code, globalsJson, timeoutMs, memoryMb }),
        timeoutMs + graceMs,
        req.signal,
        {
          answer(reply) {
            if (reply.type === 'evaluated') {
              const { result } = reply;
              return result.ok ? { ok: true, value: parseResultJson(result.json), logs: result.logs } : result;
            }
            const message = reply.type === 'failed' ? reply.message : 'unexpected answer';
            return { ok: false, error: { code: 'code_error', message: `the sandbox failed: ${message}` }, logs: [] };
          },
          lost(code, detail) {
            const message = code === 'timeout' ? `the code ran longer than ${timeoutMs} ms` : detail;
            return { ok: false, error: { code, message }, logs: [] };
          },
        },
      );
    },

    check(kind, code) {
      return submit<string | null>((id) => ({ type: 'check', id, kind, code }), CHECK_BUDGET_MS + graceMs, undefined, {
        answer(reply) {
          if (reply.type === 'checked') return reply.problem;
          throw new RuncastError('internal', `the sandbox could not check the code: ${reply.type === 'failed' ? reply.message : 'unexpected answer'}`);
        },
        lost(code, detail) {
          if (code === 'timeout') return `the code could not be compiled within ${CHECK_BUDGET_MS} ms`;
          throw new RuncastError('internal', `the sandbox could not check the code: ${detail}`);
        },
      });
    },

    async warmUp() {
      if (closed) throw closedError();
      while (slots.length < poolSize) spawn();
      await Promise.all(slots.map((s) => s.readyPromise));
    },

    stats: () => ({
      workers: slots.length,
      busy: slots.filter((s) => s.job).length,
      queued: queue.length,
      ...counters,
    }),

    close() {
      closing ??= (async () => {
        closed = true;
        const err = closedError();
        for (const job of queue.splice(0)) job.reject(err);
        const stopping = slots.splice(0).map((slot) => {
          slot.gone = true;
          clearTimeout(slot.timer);
          slot.job?.reject(err);
          slot.job = undefined;
          slot.failStart(err);
          return slot.worker.terminate();
        });
        await Promise.all(stopping);
      })();
      return closing;
    },
  };
  return pool;
}

/** Start one worker: the compiled worker.js, or worker.ts through the transpiling bootstrap. */
function startWorker(data: SandboxWorkerData, resourceLimits: ResourceLimits): Worker {
  const base = { resourceLimits, env: {}, argv: [] as string[] };
  if (path.extname(__filename) !== '.ts') return new Worker(path.join(__dirname, 'worker.js'), { ...base, workerData: data });
  const workerData: SandboxWorkerData & TsWorkerData = { ...data, tsSources: transpiledSources(), tsEntry: path.join(__dirname, 'worker.ts') };
  return new Worker(TS_BOOTSTRAP, { ...base, eval: true, workerData });
}

interface TsWorkerData {
  /** Absolute .ts path → CommonJS JavaScript. */
  tsSources: Record<string, string>;
  tsEntry: string;
}

/** Runs first in a worker started from sources: serve `.ts` requires from the transpiled map. */
const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const Module = require('node:module');
const sources = workerData.tsSources;
Module._extensions['.ts'] = function (module, filename) {
  const js = sources[filename];
  if (typeof js !== 'string') throw new Error('sandbox worker: no transpiled source for ' + filename);
  module._compile(js, filename);
};
require(workerData.tsEntry);
`;

/** The slice of the TypeScript API used here (typescript is a dev dependency). */
interface TypeScriptApi {
  transpileModule(input: string, options: { fileName: string; compilerOptions: Record<string, unknown> }): { outputText: string };
  ModuleKind: { CommonJS: number };
  ScriptTarget: { ES2022: number };
}

let tsSourcesCache: Record<string, string> | undefined;

/** Every .ts module of this directory as CommonJS, transpiled once per process. */
function transpiledSources(): Record<string, string> {
  if (tsSourcesCache) return tsSourcesCache;
  const ts = createRequire(__filename)('typescript') as TypeScriptApi;
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  const sources: Record<string, string> = {};
  for (const name of readdirSync(__dirname)) {
    if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
    const fileName = path.join(__dirname, name);
    sources[fileName] = ts.transpileModule(readFileSync(fileName, 'utf8'), { fileName, compilerOptions }).outputText;
  }
  tsSourcesCache = sources;
  return sources;
}
