/**
 * Scenario 4, modes.
 *
 * Realtime against standard execution of the same deployed workflow on the same server,
 * one run at a time, alternating: realtime is `run` over the WebSocket until the
 * terminal event arrives (one viewer: the connection that started it); standard is
 * `POST /v1/runs` until the whole response arrived (kept-alive connection). The
 * streaming overhead is the difference of the medians as a share of the standard run,
 * for the run time the client sees and for the server's CPU time per run.
 * Measured for `order` (10 nodes, 23 events) and for a fan-out loop (hundreds of events).
 *
 * Redis against memory: the same realtime runs on a server with BUS=redis (own
 * REDIS_KEY_PREFIX; keys deleted afterwards) and one with the memory bus: run time and
 * event latency one run at a time (alternating), and runs per second with many at once.
 */
import Redis from 'ioredis';
import { nanoid } from 'nanoid';
import type { RunsResult } from '../client-worker';
import { closeEverywhere, openEverywhere, runcastEnv, startServerProcess, type BenchContext, type ServerUnderTest } from '../harness';
import type { WorkerProcess } from '../ipc';
import { median, ratio, round, summarise } from '../stats';
import { fanOutWorkflow, orderInput, orderWorkflow } from '../workflows';

export interface OverheadPoint {
  workflow: string;
  events: number;
  iterations: number;
  realtimeMedianMs: number;
  standardMedianMs: number;
  /** (realtime − standard) / standard, in %, of the run time seen by the client. */
  overheadPct: number;
  /** Server CPU time per run (all threads, sandbox workers included), medians. */
  realtimeCpuMedianMs: number;
  standardCpuMedianMs: number;
  /** The same ratio for the server's CPU time. */
  cpuOverheadPct: number;
  realtimeMs: number[];
  standardMs: number[];
}

export interface RedisComparison {
  iterations: number;
  memory: { runMedianMs: number; latencyP50: number; latencyP99: number; runsPerSec: number };
  redis: { runMedianMs: number; latencyP50: number; latencyP99: number; runsPerSec: number };
  concurrentRuns: number;
  ratios: { runTime: number; latencyP50: number; latencyP99: number; throughput: number };
}

export interface ModesResult {
  realtimeVsStandard: OverheadPoint[];
  redisVsMemory: RedisComparison | { skipped: string };
}

const redisUrl = () => process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisReachable(): Promise<string | null> {
  const r = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2_000 });
  try {
    await r.connect();
    await r.ping();
    return null;
  } catch (err) {
    return `Redis not reachable at ${redisUrl()} (${(err as Error).message}); set BENCH_REDIS_URL`;
  } finally {
    r.disconnect();
  }
}

async function deleteKeys(prefix: string): Promise<number> {
  const r = new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

async function realtimeVsStandard(ctx: BenchContext, client: WorkerProcess, server: ServerUnderTest, workflowId: string, events: number, iterations: number): Promise<OverheadPoint> {
  // Each run is timed by the client (wall) and by the server's CPU time around it.
  const timed = async (run: () => Promise<number>): Promise<{ ms: number; cpuMs: number }> => {
    await server.proc.call('cpu');
    const ms = await run();
    const { ms: cpuMs } = await server.proc.call<{ ms: number }>('cpu');
    return { ms, cpuMs };
  };
  const rt = () => timed(() => client.call<{ ms: number }>('runOnce', { workflowId, input: orderInput }).then((r) => r.ms));
  const std = () => timed(() => client.call<{ ms: number }>('standardOnce', { httpUrl: server.httpUrl, workflowId, input: orderInput }).then((r) => r.ms));
  for (let i = 0; i < 3; i++) {
    await rt();
    await std();
  }
  const realtime: { ms: number; cpuMs: number }[] = [];
  const standard: { ms: number; cpuMs: number }[] = [];
  for (let i = 0; i < iterations; i++) {
    // Alternate which goes first, so that drift in the machine's load hits both alike.
    if (i % 2) {
      realtime.push(await rt());
      standard.push(await std());
    } else {
      standard.push(await std());
      realtime.push(await rt());
    }
  }
  const r = median(realtime.map((x) => x.ms));
  const s = median(standard.map((x) => x.ms));
  const rc = median(realtime.map((x) => x.cpuMs));
  const sc = median(standard.map((x) => x.cpuMs));
  ctx.log(`modes: ${workflowId}: realtime ${round(r)} ms (CPU ${round(rc)}), standard ${round(s)} ms (CPU ${round(sc)})`);
  return {
    workflow: workflowId,
    events,
    iterations,
    realtimeMedianMs: round(r),
    standardMedianMs: round(s),
    overheadPct: round(((r - s) / s) * 100),
    realtimeCpuMedianMs: round(rc),
    standardCpuMedianMs: round(sc),
    cpuOverheadPct: round(((rc - sc) / sc) * 100),
    realtimeMs: realtime.map((x) => round(x.ms)),
    standardMs: standard.map((x) => round(x.ms)),
  };
}

async function throughput(ctx: BenchContext, server: ServerUnderTest, n: number, tag: string): Promise<number> {
  const opened = await openEverywhere(ctx, n, {
    kind: 'runcast',
    url: server.url,
    auth: { secret: ctx.secret, workspace: 'bench', subPrefix: `tp-${tag}-`, scopes: ['runs:execute'] },
  });
  const parts = await Promise.all(opened.used.map((c) => c.call<RunsResult>('runs', { workflowId: 'order', input: orderInput, timeoutMs: 120_000 })));
  await closeEverywhere(ctx);
  const failures = parts.flatMap((p) => p.failures);
  if (failures.length) throw new Error(`modes: ${tag}: ${failures[0]}`);
  const sentAt = Math.min(...parts.map((p) => p.sentAt));
  const end = Math.max(...parts.flatMap((p) => [...p.doneAt]));
  return round((n / (end - sentAt)) * 1000);
}

export async function modesScenario(ctx: BenchContext): Promise<ModesResult> {
  const iterations = ctx.quick ? 10 : 40;
  const fanIterations = ctx.quick ? 25 : 100;
  const fan = fanOutWorkflow(fanIterations);
  const workflows = [orderWorkflow, fan];
  const [c0, c1] = ctx.clients as [WorkerProcess, WorkerProcess];
  const memory = await startServerProcess('runcast', runcastEnv(ctx, workflows));
  const result: ModesResult = { realtimeVsStandard: [], redisVsMemory: { skipped: 'not run' } };
  let redisServer: ServerUnderTest | undefined;
  const prefix = `runcast-bench-${nanoid(8)}:`;
  try {
    const auth = { secret: ctx.secret, workspace: 'bench', subPrefix: 'modes-', scopes: ['runs:execute'] };
    await c0.call('open', { kind: 'runcast', url: memory.url, count: 1, auth });
    ctx.log('modes: realtime against standard');
    result.realtimeVsStandard.push(await realtimeVsStandard(ctx, c0, memory, 'order', 23, iterations));
    result.realtimeVsStandard.push(await realtimeVsStandard(ctx, c0, memory, fan.id, 2 * fanIterations + 10, Math.ceil(iterations / 2)));

    const unreachable = await redisReachable();
    if (unreachable) {
      result.redisVsMemory = { skipped: unreachable };
      return result;
    }
    ctx.log('modes: Redis against memory');
    redisServer = await startServerProcess('runcast', runcastEnv(ctx, workflows, { BUS: 'redis', REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: prefix }));
    await c1.call('open', { kind: 'runcast', url: redisServer.url, count: 1, auth });
    const once = (c: WorkerProcess) => c.call<{ ms: number; latencies: Float64Array }>('runOnce', { workflowId: 'order', input: orderInput });
    for (let i = 0; i < 3; i++) {
      await once(c0);
      await once(c1);
    }
    const mem: { ms: number; latencies: Float64Array }[] = [];
    const red: { ms: number; latencies: Float64Array }[] = [];
    for (let i = 0; i < iterations; i++) {
      if (i % 2) {
        mem.push(await once(c0));
        red.push(await once(c1));
      } else {
        red.push(await once(c1));
        mem.push(await once(c0));
      }
    }
    await closeEverywhere(ctx);
    const concurrent = ctx.quick ? 20 : 100;
    const memTp = await throughput(ctx, memory, concurrent, 'memory');
    const redTp = await throughput(ctx, redisServer, concurrent, 'redis');
    const ml = summarise(mem.map((m) => m.latencies));
    const rl = summarise(red.map((m) => m.latencies));
    const m = { runMedianMs: round(median(mem.map((x) => x.ms))), latencyP50: ml.p50, latencyP99: ml.p99, runsPerSec: memTp };
    const r = { runMedianMs: round(median(red.map((x) => x.ms))), latencyP50: rl.p50, latencyP99: rl.p99, runsPerSec: redTp };
    result.redisVsMemory = {
      iterations,
      memory: m,
      redis: r,
      concurrentRuns: concurrent,
      ratios: {
        runTime: ratio(r.runMedianMs, m.runMedianMs),
        latencyP50: ratio(r.latencyP50, m.latencyP50),
        latencyP99: ratio(r.latencyP99, m.latencyP99),
        throughput: ratio(r.runsPerSec, m.runsPerSec),
      },
    };
    return result;
  } finally {
    await closeEverywhere(ctx).catch(() => undefined);
    await memory.stop();
    if (redisServer) {
      await redisServer.stop();
      const n = await deleteKeys(prefix).catch(() => 0);
      ctx.log(`modes: deleted ${n} Redis keys under ${prefix}`);
    }
  }
}
