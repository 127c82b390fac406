/**
 * The one error class used inside runcast. Anything unknown is normalised to it at
 * each boundary with `toRuncastError`. Browser-safe.
 */
import type { ErrorCode, NodeErrorCode } from './codes';

export interface ProblemDetail {
  path: string;
  message: string;
}

export class RuncastError extends Error {
  readonly code: ErrorCode | NodeErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode | NodeErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'RuncastError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** Normalise any throwable into a RuncastError (default code `internal`). */
export function toRuncastError(err: unknown, fallback: ErrorCode | NodeErrorCode = 'internal'): RuncastError {
  if (err instanceof RuncastError) return err;
  if (err instanceof Error) return new RuncastError(fallback, err.message, { cause: err });
  return new RuncastError(fallback, typeof err === 'string' ? err : 'unknown error', { cause: err });
}
