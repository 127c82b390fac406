/**
 * Evaluation of user code in QuickJS (WebAssembly), in the calling thread.
 *
 * Every evaluation gets a fresh QuickJS runtime and context, so nothing survives from
 * one evaluation to the next. Only JSON crosses: the globals go in as one JSON text
 * parsed inside QuickJS, the result comes out as JSON text produced inside QuickJS
 * (at most MAX_RESULT_CHARS), and console output as strings. No host object or
 * prototype is ever handed in, so there is nothing host-side to climb to; the
 * `console` methods are QuickJS functions whose body runs on the host, take any
 * arguments and return `undefined`.
 *
 * Limits:
 * - time: an interrupt handler stops the code at the deadline (or when the pool's
 *   abort flag names the evaluation). QuickJS polls it every few thousand bytecode
 *   operations, not inside long built-in calls; the worker pool's wall-clock watchdog
 *   is the fence for those.
 * - memory: QuickJS's own `setMemoryLimit` is set, but with the prebuilt
 *   quickjs-emscripten variants it only bounds single allocations (QuickJS keeps no
 *   byte total without `malloc_usable_size`; quickjs-emscripten issues #255 and #271).
 *   The hard bound is the WebAssembly memory: each engine (one WebAssembly instance
 *   per distinct `memoryMb`) gets a `WebAssembly.Memory` whose maximum is the module's
 *   16 MiB base plus `memoryMb`; when the heap cannot grow, allocations fail and
 *   QuickJS throws "out of memory". User code therefore gets `memoryMb` plus what of
 *   the base the module itself does not use (a few MiB).
 * - stack: `setMaxStackSize` (default 256 KiB, about 1 500 nested calls). QuickJS
 *   measures its own shadow stack while the host stack grows faster, so the thread
 *   that runs this needs a much larger stack (the pool gives its workers 32 MiB); if
 *   the host stack overflows anyway, the engine is thrown away (see below).
 *
 * A failure of the engine itself (a WebAssembly trap, a host stack overflow inside
 * QuickJS) leaves the WebAssembly instance in an unknown state: that engine is
 * discarded without being touched again, the evaluation fails with `code_error`, and
 * the next evaluation builds a new engine.
 */
import { createRequire } from 'node:module';
import {
  RELEASE_SYNC,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type DisposableResult,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import {
  ENGINE_BASE_BYTES,
  encodeGlobals,
  parseResultJson,
  validateLimits,
  type JsonEvaluateRequest,
  type JsonEvaluateResult,
} from './codec';
import type { EvaluateErrorCode, EvaluateRequest, EvaluateResult, SandboxLog } from './types';

const MiB = 1024 * 1024;
const WASM_PAGE_BYTES = 65_536;

/** At most this many console lines are kept per evaluation; one warning line marks the cut. */
export const MAX_LOG_LINES = 1000;
/** A console line longer than this (UTF-16 code units, 8 KiB of ASCII) is cut and ends with `…`. */
export const MAX_LOG_LINE_CHARS = 8192;
/**
 * A result's JSON text may be at most this long (16 Mi UTF-16 code units); a larger one
 * fails with `code_error`. It is copied through the worker's V8 heap, which it must not exhaust.
 */
export const MAX_RESULT_CHARS = 16 * 1024 * 1024;
/** Error messages are cut to this length. */
const MAX_ERROR_CHARS = 4096;
const DEFAULT_MAX_STACK_BYTES = 256 * 1024;
/** The prebuilt variants' C (shadow) stack is about 5 MiB; QuickJS's limit must stay below it. */
const MAX_STACK_BYTES = 4 * MiB;
const CHECK_MEMORY_MB = 32;

/** The file name QuickJS reports for user code: error lines are read from its frames. */
const USER_FILENAME = 'user-code.js';
const STANDARD_GLOBALS = ['input', 'request', 'nodes', 'secrets', 'item', 'index'];

// Setting up an evaluation is done from the host through the QuickJS API (handles,
// property reads and writes, calls) rather than with a JavaScript prelude: QuickJS in
// WebAssembly compiles only a few kilobytes per millisecond, and a prelude would be
// compiled again for every fresh context. The two helpers written in JavaScript below
// are compiled only when an evaluation first needs them: the console formatter on the
// first console call, the exception describer on the first failure. They are handed
// the built-ins they use as captured before user code ran, so code that replaces
// `JSON` or `String` breaks only itself; and every string they return is cut to size,
// since whatever crosses is copied into the host's heap.

/** The built-ins the helpers get, in this order, captured before user code runs. */
const KIT = ['stringify', 'String', 'Error', 'apply', 'slice'] as const;

/** `(...kit) => format(args)`: console arguments to one line, objects as JSON, cut to MAX_LOG_LINE_CHARS. */
const FORMAT = `(function (stringify, ToString, ErrorCtor, apply, slice) {
  'use strict';
  function show(v) {
    switch (typeof v) {
      case 'string': return v;
      case 'function': return '[Function' + (v.name ? ': ' + ToString(v.name) : ' (anonymous)') + ']';
      case 'bigint': return ToString(v) + 'n';
      case 'symbol': return v.toString();
      case 'object': {
        if (v === null) return 'null';
        if (v instanceof ErrorCtor) return ToString(v.name) + ': ' + ToString(v.message);
        let text;
        try { text = stringify(v); } catch (e) { text = undefined; }
        return typeof text === 'string' ? text : ToString(v);
      }
      default: return ToString(v);
    }
  }
  return function format(args) {
    let out = '';
    for (let i = 0; i < args.length; i++) {
      let part;
      try { part = show(args[i]); } catch (e) { part = '[unprintable]'; }
      if (typeof part !== 'string') part = '[unprintable]';
      out = i === 0 ? part : out + ' ' + part;
      if (out.length > ${MAX_LOG_LINE_CHARS}) break;
    }
    return out.length > ${MAX_LOG_LINE_CHARS} ? apply(slice, out, [0, ${MAX_LOG_LINE_CHARS}]) + '…' : out;
  };
})`;

/** `(...kit, format) => describe(e)`: a thrown value to `[name, message, stack]`, each cut to size. */
const DESCRIBE = `(function (stringify, ToString, ErrorCtor, apply, slice, format) {
  'use strict';
  const cut = (text, max) => (text.length > max ? apply(slice, text, [0, max]) + '…' : text);
  return function describe(e) {
    let name = '', message = '', stack = '';
    try {
      if (e instanceof ErrorCtor) {
        name = ToString(e.name);
        message = ToString(e.message);
        stack = ToString(e.stack);
      } else {
        message = 'Uncaught ' + format([e]);
      }
    } catch (inner) {
      name = '';
      message = 'Uncaught exception (unprintable)';
      stack = '';
    }
    return [cut(name, 200), cut(message, ${MAX_ERROR_CHARS}), cut(stack, ${MAX_ERROR_CHARS})];
  };
})`;

const LOG_LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;

/**
 * Lets another thread stop a running evaluation: the evaluation is interrupted when
 * `Atomics.load(flag, 0) === token` (the flag lives in a SharedArrayBuffer).
 */
export interface AbortProbe {
  flag: Int32Array;
  token: number;
}

export interface QuickJSEvaluatorOptions {
  /** QuickJS stack limit in bytes, at most 4 MiB. Default 256 KiB (about 1 500 nested calls). */
  maxStackBytes?: number;
  /** Engines kept, one per distinct `memoryMb` (least recently used dropped). Default 2. */
  maxEngines?: number;
}

export interface QuickJSEvaluatorStats {
  /** WebAssembly instances built so far. */
  enginesCreated: number;
  /** Engines thrown away after a failure of the engine itself. */
  enginesDiscarded: number;
}

/**
 * Evaluates in the calling thread: no fence against code that blocks inside a
 * built-in, no wall-clock watchdog. The pool runs it in worker threads; it is exported
 * for benchmarks and tests.
 */
export interface QuickJSEvaluator {
  /**
   * Evaluate `req`. A `signal` already aborted rejects with its reason; the
   * evaluation itself runs synchronously once its engine is ready.
   * @throws TypeError when the globals are not JSON-serialisable or a key is not an identifier;
   *   RangeError for limits out of range; anything that stops an engine from being built.
   */
  evaluate(req: EvaluateRequest): Promise<EvaluateResult>;
  /** Evaluate with the globals already JSON text and the result left as JSON text. */
  evaluateJson(req: JsonEvaluateRequest, abort?: AbortProbe): Promise<JsonEvaluateResult>;
  /** Compile without running: null when the code compiles, else `message (line N)`. */
  check(kind: EvaluateRequest['kind'], code: string): Promise<string | null>;
  stats(): QuickJSEvaluatorStats;
}

/** What QuickJS calls return: a handle, or the handle of what was thrown. */
type VmResult = DisposableResult<QuickJSHandle, QuickJSHandle>;

interface Engine {
  module: QuickJSWASMModule;
  memoryMb: number;
  /** Set when the WebAssembly memory refused to grow since the flag was last cleared. */
  growthRefused: boolean;
  broken: boolean;
}

/** Thrown inside this module to carry a host-side failure of an engine out of its `finally`. */
class EngineFailure extends Error {}

/**
 * Create an in-thread evaluator. Engines are built lazily, one per distinct
 * `memoryMb` (the WebAssembly memory maximum depends on it).
 * @throws RangeError when `maxStackBytes` is out of range.
 */
export function createQuickJSEvaluator(options: QuickJSEvaluatorOptions = {}): QuickJSEvaluator {
  const maxStackBytes = options.maxStackBytes ?? DEFAULT_MAX_STACK_BYTES;
  if (!(maxStackBytes > 0 && maxStackBytes <= MAX_STACK_BYTES)) throw new RangeError(`maxStackBytes must be in (0, ${MAX_STACK_BYTES}], got ${maxStackBytes}`);
  const maxEngines = Math.max(1, options.maxEngines ?? 2);
  const engines = new Map<number, Promise<Engine>>();
  const stats: QuickJSEvaluatorStats = { enginesCreated: 0, enginesDiscarded: 0 };

  async function engineFor(memoryMb: number): Promise<Engine> {
    let pending = engines.get(memoryMb);
    if (pending) {
      engines.delete(memoryMb); // re-insert: most recently used last
      engines.set(memoryMb, pending);
    } else {
      const created = createEngine(memoryMb);
      pending = created;
      engines.set(memoryMb, created);
      stats.enginesCreated++;
      created.catch(() => {
        if (engines.get(memoryMb) === created) engines.delete(memoryMb);
      });
      while (engines.size > maxEngines) engines.delete(engines.keys().next().value as number);
    }
    const engine = await pending;
    if (!engine.broken) return engine;
    if (engines.get(memoryMb) === pending) engines.delete(memoryMb);
    return engineFor(memoryMb);
  }

  /** Run `work` on an engine; a host-side failure discards the engine and becomes `code_error`. */
  async function withEngine<T>(memoryMb: number, work: (engine: Engine) => T, onFailure: (message: string) => T): Promise<T> {
    const engine = await engineFor(memoryMb);
    try {
      return work(engine);
    } catch (err) {
      if (!engine.broken) {
        engine.broken = true;
        stats.enginesDiscarded++;
      }
      const cause = err instanceof EngineFailure ? err.cause : err;
      return onFailure(`the sandbox engine failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }

  const evaluator: QuickJSEvaluator = {
    async evaluate(req) {
      if (req.signal?.aborted) throw req.signal.reason;
      validateLimits(req.timeoutMs, req.memoryMb);
      const result = await evaluator.evaluateJson({
        kind: req.kind,
        code: req.code,
        globalsJson: encodeGlobals(req.globals),
        timeoutMs: req.timeoutMs,
        memoryMb: req.memoryMb,
      });
      return result.ok ? { ok: true, value: parseResultJson(result.json), logs: result.logs } : result;
    },

    async evaluateJson(req, abort) {
      validateLimits(req.timeoutMs, req.memoryMb);
      return withEngine(
        req.memoryMb,
        (engine) => runEvaluation(engine, req, maxStackBytes, abort),
        (message) => ({ ok: false, error: { code: 'code_error', message }, logs: [] }),
      );
    },

    async check(kind, code) {
      return withEngine(CHECK_MEMORY_MB, (engine) => runCheck(engine, kind, code, maxStackBytes), (message) => message);
    },

    stats: () => ({ ...stats }),
  };
  return evaluator;
}

type EmscriptenLoader = Awaited<ReturnType<(typeof RELEASE_SYNC)['importModuleLoader']>>;

/**
 * RELEASE_SYNC, loading its Emscripten glue with `require` (its CommonJS build) where
 * the published variant uses `import()`, which jest's module system cannot run.
 */
const RELEASE_SYNC_REQUIRED: typeof RELEASE_SYNC = {
  ...RELEASE_SYNC,
  importModuleLoader: async () =>
    createRequire(require.resolve('quickjs-emscripten'))('@jitl/quickjs-wasmfile-release-sync/emscripten-module') as EmscriptenLoader,
};

/**
 * A QuickJS module built like the evaluator's engines (same variant, same loader) but
 * with the variant's own, uncapped memory. For benchmarks of bare QuickJS calls.
 */
export function loadQuickJSModule(): Promise<QuickJSWASMModule> {
  return newQuickJSWASMModuleFromVariant(RELEASE_SYNC_REQUIRED);
}

async function createEngine(memoryMb: number): Promise<Engine> {
  const maximum = Math.ceil((ENGINE_BASE_BYTES + memoryMb * MiB) / WASM_PAGE_BYTES);
  const memory = new WebAssembly.Memory({ initial: ENGINE_BASE_BYTES / WASM_PAGE_BYTES, maximum });
  const engine = { memoryMb, growthRefused: false, broken: false } as Engine;
  // The Emscripten glue grows the heap with `memory.grow` and treats a throw as
  // "no more memory" (malloc returns NULL). Noting the refusal identifies an exhausted
  // heap even when QuickJS could not allocate a proper error object for it.
  const grow = memory.grow.bind(memory);
  Object.defineProperty(memory, 'grow', {
    value: (delta: number): number => {
      try {
        return grow(delta);
      } catch (err) {
        engine.growthRefused = true;
        throw err;
      }
    },
  });
  engine.module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC_REQUIRED, { wasmMemory: memory }));
  return engine;
}

/** Wrap user code; the code starts on line 1 of the wrapper, so its line numbers are the user's. */
function wrap(kind: EvaluateRequest['kind'], code: string): string {
  return kind === 'function' ? `(function(){${code}\n})()` : `(${code}\n)`;
}

/** The first line of user code named in a QuickJS stack, clamped to the code's lines. */
function userLine(stack: string, code: string): number | undefined {
  const match = /user-code\.js:(\d+)/.exec(stack);
  if (!match) return undefined;
  const lines = code.split('\n').length;
  return Math.min(Math.max(Number(match[1]), 1), lines);
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A fresh runtime and context, disposed whatever happens — except after a host-side
 * failure, when the WebAssembly instance may be inconsistent and is not touched again
 * (the failure is rethrown as EngineFailure and the engine discarded).
 */
/** Something holding QuickJS memory: a handle, or a list of them. */
interface Owned {
  readonly alive: boolean;
  dispose(): void;
}

function withRuntime<T>(engine: Engine, memoryMb: number, maxStackBytes: number, work: (rt: QuickJSRuntime, vm: QuickJSContext, own: <H extends Owned>(h: H) => H) => T): T {
  engine.growthRefused = false;
  const owned: Owned[] = [];
  const own = <H extends Owned>(handle: H): H => {
    owned.push(handle);
    return handle;
  };
  let rt: QuickJSRuntime | undefined;
  let vm: QuickJSContext | undefined;
  let failed = false;
  try {
    rt = engine.module.newRuntime();
    rt.setMemoryLimit(Math.ceil(memoryMb * MiB));
    rt.setMaxStackSize(maxStackBytes);
    vm = rt.newContext();
    return work(rt, vm, own);
  } catch (err) {
    failed = true;
    throw new EngineFailure('engine failure', { cause: err });
  } finally {
    if (!failed) {
      try {
        for (let i = owned.length - 1; i >= 0; i--) if (owned[i]!.alive) owned[i]!.dispose();
        vm?.dispose();
        rt?.dispose();
      } catch (err) {
        // An assertion in the engine while freeing: do not reuse it.
        throw new EngineFailure('engine failure while disposing', { cause: err });
      }
    }
  }
}

interface ErrorInfo {
  name: string;
  message: string;
  stack: string;
}

function runEvaluation(engine: Engine, req: JsonEvaluateRequest, maxStackBytes: number, abort?: AbortProbe): JsonEvaluateResult {
  const logs: SandboxLog[] = [];
  let stopped: 'timeout' | 'aborted' | undefined;

  return withRuntime(engine, req.memoryMb, maxStackBytes, (rt, vm, own) => {
    const deadline = Date.now() + req.timeoutMs;
    rt.setInterruptHandler(() => {
      if (abort && Atomics.load(abort.flag, 0) === abort.token) stopped = 'aborted';
      else if (Date.now() >= deadline) stopped = 'timeout';
      return stopped !== undefined;
    });
    const global = vm.global;
    const get = (object: QuickJSHandle, key: string | number | QuickJSHandle): QuickJSHandle => own(vm.getProp(object, key));

    // The built-ins used below, taken before user code can replace them.
    const json = get(global, 'JSON');
    const parse = get(json, 'parse');
    const stringify = get(json, 'stringify');
    const StringCtor = get(global, 'String');
    const kit = [stringify, StringCtor, get(global, 'Error'), get(get(global, 'Reflect'), 'apply'), get(get(StringCtor, 'prototype'), 'slice')];

    /** Compile a helper factory and call it with the kit (and `extra`): the helper, or the VM's error. */
    const helper = (source: string, filename: string, extra: QuickJSHandle[] = []): VmResult => {
      const compiled = vm.evalCode(source, filename, { type: 'global', strict: true });
      if (compiled.error) return compiled;
      return vm.callFunction(own(compiled.value), vm.undefined, ...kit, ...extra);
    };
    const owned = (result: VmResult): VmResult => {
      own(result.error ?? result.value!);
      return result;
    };
    let format: VmResult | undefined;
    const formatter = (): VmResult => (format ??= owned(helper(FORMAT, 'runcast-format.js')));
    let describe: VmResult | undefined;
    const describer = (): VmResult => {
      if (!describe) {
        const fmt = formatter();
        describe = fmt.error ? fmt : owned(helper(DESCRIBE, 'runcast-describe.js', [fmt.value]));
      }
      return describe;
    };

    const fail = (code: EvaluateErrorCode, message: string, line?: number): JsonEvaluateResult => ({
      ok: false,
      error: line === undefined ? { code, message } : { code, message, line },
      logs,
    });
    const limitFailure = (): JsonEvaluateResult | undefined => {
      if (stopped === 'timeout') return fail('timeout', `the code ran longer than ${req.timeoutMs} ms`);
      if (stopped === 'aborted') return fail('timeout', 'the evaluation was aborted');
      if (engine.growthRefused) return fail('memory_limit', `the code used more than ${req.memoryMb} MB of memory`);
      return undefined;
    };
    /** The evaluation failed with `errorHandle` (thrown by user code, or by setting up). */
    const failure = (errorHandle: QuickJSHandle, context = ''): JsonEvaluateResult => {
      own(errorHandle);
      const limited = limitFailure();
      if (limited) return limited;
      let info: ErrorInfo = { name: '', message: 'Uncaught exception (unprintable)', stack: '' };
      const describeFn = describer();
      if (!describeFn.error) {
        const described = owned(vm.callFunction(describeFn.value, vm.undefined, errorHandle));
        if (!described.error) {
          const part = (index: number): string => vm.getString(get(described.value, index));
          info = { name: part(0), message: part(1), stack: part(2) };
        }
      }
      const limitedNow = limitFailure();
      if (limitedNow) return limitedNow;
      if (/out of memory/i.test(info.message) && (info.name === 'InternalError' || info.name === '')) {
        return fail('memory_limit', `the code used more than ${req.memoryMb} MB of memory`);
      }
      const message = cut(info.name ? `${info.name}: ${context}${info.message}` : `${context}${info.message}`, MAX_ERROR_CHARS);
      return fail('code_error', message, userLine(info.stack, req.code));
    };

    // The globals: parsed from JSON inside QuickJS, so every object is QuickJS's own.
    for (const name of STANDARD_GLOBALS) vm.setProp(global, name, vm.undefined);
    const parsed = vm.callFunction(parse, vm.undefined, own(vm.newString(req.globalsJson)));
    if (parsed.error) return failure(parsed.error);
    const values = own(parsed.value);
    const names = vm.getOwnPropertyNames(values);
    if (names.error) return failure(names.error);
    for (const name of own(names.value)) vm.setProp(global, name, get(values, name));

    // console.*: host functions that format with the lazily compiled helper.
    let lines = 0;
    const consoleObject = own(vm.newObject());
    for (const level of LOG_LEVELS) {
      const method = own(
        vm.newFunction(level, (...args) => {
          if (lines >= MAX_LOG_LINES) {
            if (lines++ === MAX_LOG_LINES) logs.push({ level: 'warn', message: `[runcast] console output cut after ${MAX_LOG_LINES} lines` });
            return undefined;
          }
          lines++;
          const fmt = formatter();
          if (fmt.error) return { error: fmt.error.dup() };
          const list = vm.newArray();
          try {
            args.forEach((arg, index) => vm.setProp(list, index, arg));
            const line = vm.callFunction(fmt.value, vm.undefined, list);
            if (line.error) return line; // thrown on into the VM
            logs.push({ level, message: cut(vm.getString(line.value), MAX_LOG_LINE_CHARS) });
            line.value.dispose();
            return undefined;
          } finally {
            list.dispose();
          }
        }),
      );
      vm.setProp(consoleObject, level, method);
    }
    vm.setProp(global, 'console', consoleObject);

    // Run.
    const ran = vm.evalCode(wrap(req.kind, req.code), USER_FILENAME, { type: 'global' });
    if (ran.error) return failure(ran.error);
    let value = own(ran.value);

    // Promise jobs the code queued (then-callbacks, async functions) run to completion;
    // nothing asynchronous exists in the sandbox, so a promise still pending now never settles.
    const jobs = rt.executePendingJobs();
    if (jobs.error) return failure(jobs.error);
    const state = vm.getPromiseState(value);
    if (state.type === 'rejected') return failure(state.error);
    if (state.type === 'pending') {
      return fail('code_error', 'the returned promise never settles (nothing asynchronous is available in the sandbox)');
    }
    if (!state.notAPromise) value = own(state.value);

    // Out as JSON text, made inside QuickJS (toJSON and getters run there, under the limits).
    if (vm.typeof(value) === 'undefined') return { ok: true, json: undefined, logs };
    const text = vm.callFunction(stringify, vm.undefined, value);
    if (text.error) return failure(text.error, 'the result is not JSON-serialisable: ');
    const out = own(text.value);
    if (vm.typeof(out) !== 'string') return { ok: true, json: undefined, logs }; // a function, a symbol
    const length = vm.getNumber(get(out, 'length'));
    if (length > MAX_RESULT_CHARS) {
      return fail('code_error', `RangeError: the result is too large: ${length} characters of JSON, at most ${MAX_RESULT_CHARS}`);
    }
    return { ok: true, json: vm.getString(out), logs };
  });
}

function runCheck(engine: Engine, kind: EvaluateRequest['kind'], code: string, maxStackBytes: number): string | null {
  return withRuntime(engine, CHECK_MEMORY_MB, maxStackBytes, (_rt, vm, own) => {
    const compiled = vm.evalCode(wrap(kind, code), USER_FILENAME, { type: 'global', compileOnly: true });
    if (!compiled.error) {
      own(compiled.value);
      return null;
    }
    own(compiled.error);
    if (engine.growthRefused) return 'the code is too large to compile';
    const info = readNativeError(vm, compiled.error);
    const line = userLine(info.stack, code);
    const message = cut(info.name ? `${info.name}: ${info.message}` : info.message, MAX_ERROR_CHARS);
    return line === undefined ? message : `${message} (line ${line})`;
  });
}

/** Name, message and stack of an error QuickJS itself created (no user getters involved). */
function readNativeError(vm: QuickJSContext, handle: QuickJSHandle): ErrorInfo {
  if (vm.typeof(handle) !== 'object') return { name: '', message: `Uncaught ${String(vm.dump(handle))}`, stack: '' };
  const read = (key: string): string => {
    const prop = vm.getProp(handle, key);
    try {
      return vm.typeof(prop) === 'string' ? vm.getString(prop) : '';
    } finally {
      prop.dispose();
    }
  };
  return { name: read('name'), message: read('message'), stack: read('stack') };
}
