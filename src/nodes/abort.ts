/** Abort handling shared by node types that wait (`delay`, `http.request`). */

/**
 * Why a signal aborted, as something to throw: its reason when that is an error (an
 * `AbortError` or `TimeoutError` DOMException by default), else a plain Error.
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  // Duck-typed: a DOMException from another realm (vm contexts, test runners) fails `instanceof Error`.
  const isError =
    reason instanceof Error ||
    (typeof reason === 'object' && reason !== null && typeof (reason as Error).name === 'string' && typeof (reason as Error).message === 'string');
  return isError ? (reason as Error) : new Error('the node was aborted');
}
