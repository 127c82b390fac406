/**
 * The messages between the pool (main thread) and a sandbox worker. Types only.
 *
 * A worker says `ready` once, then serves one request at a time: the pool sends the
 * next request only after the answer to the previous one.
 */
import type { JsonEvaluateRequest, JsonEvaluateResult } from './codec';
import type { EvaluateRequest } from './types';

/** What a worker is started with (`workerData`). */
export interface SandboxWorkerData {
  /** Int32Array(1) over it: the pool stores a request id there to stop that request. */
  abortBuffer: SharedArrayBuffer;
  /** QuickJS stack limit in bytes. */
  maxStackBytes: number;
}

export type ToWorker =
  | ({ type: 'evaluate'; id: number } & JsonEvaluateRequest)
  | { type: 'check'; id: number; kind: EvaluateRequest['kind']; code: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'evaluated'; id: number; result: JsonEvaluateResult }
  | { type: 'checked'; id: number; problem: string | null }
  /** The worker could not handle the request at all (a bug or a broken install). */
  | { type: 'failed'; id: number; message: string };
