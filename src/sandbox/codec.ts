/**
 * What crosses the sandbox boundary, as JSON text: the request's globals going in, the
 * result coming out, and the checks on both. Shared by the pool (main thread) and the
 * evaluator (worker thread); no QuickJS here.
 */
import type { EvaluateErrorCode, EvaluateRequest, SandboxLog } from './types';

const MiB = 1024 * 1024;
/** INITIAL_MEMORY of the prebuilt quickjs-emscripten variants: static data, C stack and the first heap. */
export const ENGINE_BASE_BYTES = 16 * MiB;
/** The largest `memoryMb` a 32-bit WebAssembly memory (2 GiB as built) leaves room for. */
export const MAX_MEMORY_MB = (2048 * MiB - ENGINE_BASE_BYTES) / MiB;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** An evaluation request as it travels to a worker: the globals already JSON text. */
export interface JsonEvaluateRequest {
  kind: EvaluateRequest['kind'];
  code: string;
  /** `JSON.stringify` of the globals object (see {@link encodeGlobals}). */
  globalsJson: string;
  timeoutMs: number;
  memoryMb: number;
}

/** An evaluation result as it travels back: the value still JSON text (`undefined` for `undefined`). */
export type JsonEvaluateResult =
  | { ok: true; json: string | undefined; logs: SandboxLog[] }
  | { ok: false; error: { code: EvaluateErrorCode; message: string; line?: number }; logs: SandboxLog[] };

/**
 * The globals as one JSON text.
 * @throws TypeError when a key is not an identifier (or is `__proto__`), or the values
 *   are not JSON-serialisable (a cycle, a BigInt).
 */
export function encodeGlobals(globals: Record<string, unknown>): string {
  for (const key of Object.keys(globals)) {
    if (!IDENTIFIER.test(key) || key === '__proto__') throw new TypeError(`sandbox global "${key}" is not a usable identifier`);
  }
  return JSON.stringify(globals);
}

/** @throws RangeError unless `timeoutMs` is a positive number and `memoryMb` is in (0, MAX_MEMORY_MB]. */
export function validateLimits(timeoutMs: number, memoryMb: number): void {
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
  if (!(Number.isFinite(memoryMb) && memoryMb > 0 && memoryMb <= MAX_MEMORY_MB)) {
    throw new RangeError(`memoryMb must be in (0, ${MAX_MEMORY_MB}], got ${memoryMb}`);
  }
}

/**
 * Parse a result's JSON text on the host. `__proto__` keys are dropped: JSON.parse
 * makes them own properties, harmless by themselves, but a later `Object.assign` or
 * naive deep merge of the value would treat them as prototypes.
 */
export function parseResultJson(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  return json.includes('"__proto__"') ? JSON.parse(json, dropProtoKeys) : JSON.parse(json);
}

function dropProtoKeys(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value;
}
