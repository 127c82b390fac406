/**
 * Isolated evaluation of user JavaScript for `logic` and `condition` nodes.
 *
 * `createSandbox` is what the gateway uses: QuickJS in a pool of worker threads
 * (pool.ts). `createQuickJSEvaluator` evaluates in the calling thread, without the
 * worker fence, for benchmarks and tests (quickjs.ts).
 */
import { createSandboxPool, type SandboxPool, type SandboxPoolOptions } from './pool';

export type { EvaluateErrorCode, EvaluateRequest, EvaluateResult, Sandbox, SandboxLog } from './types';
export type { SandboxPool, SandboxPoolOptions, SandboxPoolStats } from './pool';
export { createQuickJSEvaluator, loadQuickJSModule, MAX_LOG_LINES, MAX_LOG_LINE_CHARS, MAX_RESULT_CHARS } from './quickjs';
export type { AbortProbe, QuickJSEvaluator, QuickJSEvaluatorOptions, QuickJSEvaluatorStats } from './quickjs';
export { MAX_MEMORY_MB } from './codec';

/**
 * Create the sandbox: a pool of `poolSize` (default 2) worker threads running QuickJS,
 * at most `maxQueue` (default 1000) requests waiting, a worker terminated `graceMs`
 * (default 1000) after its request's `timeoutMs`. See {@link createSandboxPool}.
 */
export function createSandbox(options: SandboxPoolOptions = {}): SandboxPool {
  return createSandboxPool(options);
}
