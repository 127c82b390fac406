/**
 * Sandbox benchmark: what isolation costs for a trivial evaluation.
 *
 * - `context_create_us`: a fresh QuickJS runtime + context, created and disposed (what
 *   every evaluation pays before running anything).
 * - `bare_*`: `vm.evalCode('1 + 1')` on one reused context — QuickJS alone.
 * - `inthread_*`: the in-thread evaluator (fresh runtime/context, prelude, globals in,
 *   JSON out), no worker.
 * - `pool_*`: the worker-pool sandbox end to end (message to a worker and back):
 *   latency one request at a time, throughput with 16 requests in flight.
 * - `pool_vs_bare_p50_ratio`, `pool_vs_inthread_p50_ratio`: the price of each layer.
 *
 * Latencies in microseconds. Run compiled (`node dist/bench/sandbox.js [--quick]`) or
 * through the lead's `npm run bench`, which imports `benchSandbox`.
 */
import { createQuickJSEvaluator, createSandbox, loadQuickJSModule, type EvaluateRequest } from '../src/sandbox';

const TRIVIAL: EvaluateRequest = { kind: 'expression', code: 'input.a + 1', globals: { input: { a: 1 } }, timeoutMs: 1_000, memoryMb: 32 };

interface Sample {
  p50: number;
  p99: number;
  opsPerSec: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}

/** Time `iterations` sequential runs of `op` (after a tenth as many unmeasured warm-up runs). */
async function sequential(iterations: number, op: () => unknown): Promise<Sample> {
  for (let i = 0; i < Math.ceil(iterations / 10); i++) await op();
  const times: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await op();
    times.push(Number(process.hrtime.bigint() - t0) / 1_000);
  }
  const totalUs = Number(process.hrtime.bigint() - start) / 1_000;
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), opsPerSec: (iterations / totalUs) * 1e6 };
}

/** Operations per second with `inFlight` requests outstanding at all times. */
async function throughput(total: number, inFlight: number, op: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const start = process.hrtime.bigint();
  const lane = async (): Promise<void> => {
    while (started < total) {
      started++;
      await op();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return (total / Number(process.hrtime.bigint() - start)) * 1e9;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Measure the sandbox; `quick` for a smoke run (CI), otherwise enough samples for stable percentiles. */
export async function benchSandbox(opts: { quick: boolean }): Promise<Record<string, number>> {
  const n = opts.quick ? 200 : 2_000;
  const out: Record<string, number> = {};

  const module = await loadQuickJSModule();
  const create = await sequential(n, () => {
    const rt = module.newRuntime();
    const vm = rt.newContext();
    vm.dispose();
    rt.dispose();
  });
  out['context_create_us'] = create.p50;

  const rt = module.newRuntime();
  const vm = rt.newContext();
  try {
    const bare = await sequential(n * 5, () => {
      const result = vm.evalCode('1 + 1', 'bench.js', { type: 'global' });
      vm.unwrapResult(result).dispose();
    });
    out['bare_p50_us'] = bare.p50;
    out['bare_p99_us'] = bare.p99;
    out['bare_ops_per_s'] = bare.opsPerSec;
  } finally {
    vm.dispose();
    rt.dispose();
  }

  const evaluator = createQuickJSEvaluator();
  const inThread = await sequential(n, () => evaluator.evaluate(TRIVIAL));
  out['inthread_p50_us'] = inThread.p50;
  out['inthread_p99_us'] = inThread.p99;
  out['inthread_ops_per_s'] = inThread.opsPerSec;

  const pool = createSandbox({ poolSize: 2 });
  try {
    await pool.warmUp();
    const latency = await sequential(n, () => pool.evaluate(TRIVIAL));
    out['pool_p50_us'] = latency.p50;
    out['pool_p99_us'] = latency.p99;
    out['pool_sequential_ops_per_s'] = latency.opsPerSec;
    out['pool_ops_per_s'] = await throughput(n * 2, 16, () => pool.evaluate(TRIVIAL));
  } finally {
    await pool.close();
  }

  out['pool_vs_bare_p50_ratio'] = out['pool_p50_us']! / out['bare_p50_us']!;
  out['pool_vs_inthread_p50_ratio'] = out['pool_p50_us']! / out['inthread_p50_us']!;
  for (const key of Object.keys(out)) out[key] = round(out[key]!);
  return out;
}

if (require.main === module) {
  benchSandbox({ quick: process.argv.includes('--quick') }).then(
    (results) => console.table(results),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
