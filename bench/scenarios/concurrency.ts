/**
 * Scenario 2, concurrency: N runs of the 10-node `order` workflow started at once, one
 * viewer each (the connection that starts a run follows it), N = 100 and 1,000.
 * Runs per second and events per second over the whole batch (first `run` sent to
 * the last terminal event received), p99 event latency, p99 run duration, server CPU
 * per run; and how each grows from 100 to 1,000 runs (linear cost: per-run cost ratio ≈ 1).
 */
import type { RunsResult } from '../client-worker';
import { closeEverywhere, openEverywhere, quietEverywhere, runcastEnv, startServerProcess, type BenchContext } from '../harness';
import { percentile, ratio, round, summarise } from '../stats';
import { orderInput, orderWorkflow } from '../workflows';
import { cpuSnapshot, machineLoad } from '../machine';

export interface ConcurrencyPoint {
  runs: number;
  completed: number;
  wallMs: number;
  runsPerSec: number;
  eventsPerSec: number;
  events: number;
  latencyP50: number;
  latencyP99: number;
  runP50Ms: number;
  runP99Ms: number;
  /** Server CPU time per run (all threads: executor, sandbox workers, gateway). */
  cpuMsPerRun: number;
  /** The machine during the batch: all cores busy %, and the share of processes other than the bench's. */
  machineBusyPct?: number;
  othersPct?: number;
  failures: string[];
}

export interface ConcurrencyResult {
  points: ConcurrencyPoint[];
  /** From the smallest to the largest batch: 1 means linear. */
  growth?: { runs: string; wallPerRunRatio: number; cpuPerRunRatio: number; runsPerSecRatio: number; latencyP99Ratio: number };
}

export async function concurrencyScenario(ctx: BenchContext): Promise<ConcurrencyResult> {
  const sizes = ctx.quick ? [50] : [100, 1000];
  const server = await startServerProcess('runcast', runcastEnv(ctx, [orderWorkflow]));
  const points: ConcurrencyPoint[] = [];
  try {
    // Warm-up: JIT, sandbox workers, the workflow's first runs.
    await openEverywhere(ctx, 20, { kind: 'runcast', url: server.url, auth: { secret: ctx.secret, workspace: 'bench', subPrefix: 'warm-', scopes: ['runs:execute'] } });
    await Promise.all(ctx.clients.map((c) => c.call('runs', { workflowId: 'order', input: orderInput, timeoutMs: 120_000 })));
    await closeEverywhere(ctx);

    for (const n of sizes) {
      ctx.log(`concurrency: ${n} runs at once`);
      const opened = await openEverywhere(ctx, n, {
        kind: 'runcast',
        url: server.url,
        auth: { secret: ctx.secret, workspace: 'bench', subPrefix: `r${n}-`, scopes: ['runs:execute'] },
      });
      if (opened.failed) throw new Error(`concurrency: ${opened.failed} connections failed: ${opened.firstError}`);
      await quietEverywhere(opened.used);
      await server.proc.call('settle', { timeoutMs: 30_000 });
      await server.proc.call('cpu');
      await Promise.all(ctx.clients.map((c) => c.call('cpu')));
      const before = cpuSnapshot();
      const parts = await Promise.all(
        opened.used.map((c) => c.call<RunsResult>('runs', { workflowId: 'order', input: orderInput, timeoutMs: 280_000 }, 300_000)),
      );
      const { ms: cpuMs } = await server.proc.call<{ ms: number }>('cpu');
      const clientMs = (await Promise.all(ctx.clients.map((c) => c.call<{ ms: number }>('cpu')))).reduce((a, r) => a + r.ms, 0);
      const load = machineLoad(before, cpuSnapshot(), cpuMs + clientMs);
      await closeEverywhere(ctx);

      const sentAt = Math.min(...parts.map((p) => p.sentAt));
      const done = parts.flatMap((p) => [...p.doneAt].filter((d) => Number.isFinite(d)));
      const durations = parts.flatMap((p) => [...p.doneAt].filter((d) => Number.isFinite(d)).map((d) => d - p.sentAt)).sort((a, b) => a - b);
      const wallMs = Math.max(...done) - sentAt;
      const events = parts.reduce((s, p) => s + p.events, 0);
      const lat = summarise(parts.map((p) => p.latencies));
      points.push({
        runs: n,
        completed: done.length,
        wallMs: round(wallMs),
        runsPerSec: round((done.length / wallMs) * 1000),
        eventsPerSec: round((events / wallMs) * 1000),
        events,
        latencyP50: lat.p50,
        latencyP99: lat.p99,
        runP50Ms: round(percentile(durations, 0.5)),
        runP99Ms: round(percentile(durations, 0.99)),
        cpuMsPerRun: round(cpuMs / n),
        ...(load ?? {}),
        failures: [...new Set(parts.flatMap((p) => p.failures))].slice(0, 5),
      });
    }
  } finally {
    await server.stop();
  }
  const a = points[0];
  const b = points[points.length - 1];
  return {
    points,
    ...(a && b && a !== b
      ? {
          growth: {
            runs: `${a.runs} -> ${b.runs}`,
            wallPerRunRatio: ratio(b.wallMs / b.runs, a.wallMs / a.runs),
            cpuPerRunRatio: ratio(b.cpuMsPerRun, a.cpuMsPerRun),
            runsPerSecRatio: ratio(b.runsPerSec, a.runsPerSec),
            latencyP99Ratio: ratio(b.latencyP99, a.latencyP99),
          },
        }
      : {}),
  };
}
