/**
 * Entry point of a sandbox worker thread: one QuickJS evaluator, loaded once, serving
 * the pool's requests one at a time. Started by pool.ts, never imported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, SandboxWorkerData, ToWorker } from './messages';
import { createQuickJSEvaluator } from './quickjs';

const port = parentPort;
if (!port) throw new Error('sandbox/worker.ts runs only as a worker thread');

const data = workerData as SandboxWorkerData;
const abortFlag = new Int32Array(data.abortBuffer);
const evaluator = createQuickJSEvaluator({ maxStackBytes: data.maxStackBytes });

async function handle(message: ToWorker): Promise<FromWorker> {
  if (message.type === 'check') {
    return { type: 'checked', id: message.id, problem: await evaluator.check(message.kind, message.code) };
  }
  const { id, kind, code, globalsJson, timeoutMs, memoryMb } = message;
  const result = await evaluator.evaluateJson({ kind, code, globalsJson, timeoutMs, memoryMb }, { flag: abortFlag, token: id });
  return { type: 'evaluated', id, result };
}

port.on('message', (message: ToWorker) => {
  handle(message).then(
    (reply) => port.postMessage(reply),
    (err: unknown) => port.postMessage({ type: 'failed', id: message.id, message: err instanceof Error ? err.message : String(err) } satisfies FromWorker),
  );
});
// Build the engine checks use (32 MB, also CODE_MEMORY_MB's default) before taking work,
// so a first request does not pay for it inside its time budget.
// If that fails the rejection goes unhandled and the worker dies before `ready`, which the
// pool reports as a worker that could not start.
void evaluator.check('expression', '0').then(() => port.postMessage({ type: 'ready' } satisfies FromWorker));
