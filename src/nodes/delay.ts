/** `delay`: waits `ms` milliseconds, then passes its input on. Cancellable. */
import type { NodeType } from '../executor/node-type';
import { abortReason } from './abort';

/**
 * Wait `ms`, or reject promptly with the signal's reason when it aborts (the timer is
 * cleared, the listener removed).
 */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Create the `delay` node type. Config: `ms`, an integer from 0 to `maxDelayMs`
 * (NODE_TIMEOUT_MS). Output: its input. When `ctx.signal` aborts, rejects with its reason.
 */
export function createDelayNode(deps: { maxDelayMs: number }): NodeType {
  return {
    type: 'delay',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['ms'],
      additionalProperties: false,
      properties: { ms: { type: 'integer', minimum: 0, maximum: deps.maxDelayMs } },
    },
    async run(ctx) {
      await wait(ctx.config['ms'] as number, ctx.signal);
      return { output: ctx.input };
    },
  };
}
