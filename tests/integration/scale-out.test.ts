/**
 * Scale-out on Redis with real processes (issue 7): two gateways (`runcast serve`,
 * EXECUTE=false) and executor workers (`runcast worker`) on one Redis, each process with
 * its own DATA_DIR and a shared WORKFLOWS_DIR. The shared Redis (REDIS_URL, default
 * 127.0.0.1:6379) is used under a key prefix unique to this run and never flushed; the
 * tests that stop Redis start their own redis-server on a free port.
 *
 * Which worker executed a run is known exactly: each worker holds a different secret
 * EXECUTOR, and the side-effect workflow sends it to a local HTTP server (the outside
 * world), which also counts how often each run's side effect happened.
 *
 * SCALE_OUT_DUMP=<dir> writes every child's output (JSON log lines) there at the end.
 */
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { nanoid } from 'nanoid';
import { signToken } from '../../src/auth';
import type { WorkflowDefinition } from '../../src/protocol/workflow';
import { connect, type WsTestClient } from '../helpers/ws-client';
import { eventually } from '../helpers/waiter';
import { deleteKeys } from '../helpers/redis';
import { createRedisServer, ensureBuilt, spawnGateway, spawnWorker, type Child, type Gateway, type RedisServer } from '../helpers/processes';

const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const JWT_SECRET = 'scale-out-test-secret-0123456789abcdef';
/** Short enough to see a lost worker quickly, long enough that a loaded machine does not lose a live one. */
const LEASE_MS = 1_000;
const WORKSPACE = 'acme';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Frame = any;
const isEvent = (runId: string) => (m: Frame) => m.type === 'event' && m.runId === runId;
const terminal = (m: Frame) => ['run.completed', 'run.failed', 'run.cancelled'].includes(m.event?.kind);
const kindOf = (kind: string, nodeId?: string) => (runId: string) => (m: Frame) =>
  isEvent(runId)(m) && m.event.kind === kind && (nodeId === undefined || m.event.nodeId === nodeId);
const eventTexts = (c: WsTestClient, runId: string) => c.texts.filter((_, i) => isEvent(runId)(c.frames[i]));

/** Every seq from 1 to N exactly once, in order; run.started first; one terminal event, last. */
function expectCompleteRun(frames: Frame[]): void {
  expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
  expect(frames[0].event.kind).toBe('run.started');
  expect(frames.filter(terminal)).toHaveLength(1);
  expect(terminal(frames.at(-1))).toBe(true);
}

/** A loop of `count` iterations, each waiting `ms` (a steady stream of events). */
function ticker(count: number, ms: number): WorkflowDefinition {
  return {
    id: 'ticker',
    nodes: [
      { id: 'start', type: 'api.start', config: { method: 'POST', path: '/ticker' } },
      { id: 'items', type: 'logic', config: { code: `return Array.from({ length: ${count} }, (_, i) => i)` } },
      { id: 'each', type: 'loop', config: { items: '{{ nodes.items }}' } },
      { id: 'tick', type: 'delay', config: { ms } },
      { id: 'body', type: 'logic', config: { code: 'return { i: item }' } },
      { id: 'respond', type: 'api.response', config: { body: { last: '{{ nodes.body.i }}' } } },
    ],
    edges: [
      { from: 'start', to: 'items' },
      { from: 'items', to: 'each' },
      { from: 'each', to: 'tick', when: 'each' },
      { from: 'tick', to: 'body' },
      { from: 'each', to: 'respond', when: 'done' },
    ],
  };
}

/** Calls the outside world (a side effect, tagged with `request.body.tag`), then waits `ms`. */
function sideEffect(url: string, ms: number): WorkflowDefinition {
  return {
    id: 'side-effect',
    nodes: [
      { id: 'start', type: 'api.start', config: { method: 'POST', path: '/side-effect' } },
      {
        id: 'hit',
        type: 'http.request',
        config: { method: 'POST', url, headers: { 'x-executor': '{{ secrets.EXECUTOR }}' }, body: { tag: '{{ request.body.tag }}' } },
      },
      { id: 'wait', type: 'delay', config: { ms } },
      { id: 'respond', type: 'api.response', config: { status: 201, body: { done: true } } },
    ],
    edges: [
      { from: 'start', to: 'hit' },
      { from: 'hit', to: 'wait' },
      { from: 'wait', to: 'respond' },
    ],
  };
}

/** A short straight line: start -> first -> last -> respond. */
const line: WorkflowDefinition = {
  id: 'line',
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'POST', path: '/line' } },
    { id: 'first', type: 'logic', config: { code: 'return { n: 1 }' } },
    { id: 'last', type: 'logic', config: { code: 'return { n: input.n + 1 }' } },
    { id: 'respond', type: 'api.response', config: { body: '{{ nodes.last }}' } },
  ],
  edges: [
    { from: 'start', to: 'first' },
    { from: 'first', to: 'last' },
    { from: 'last', to: 'respond' },
  ],
};

const root = mkdtempSync(path.join(tmpdir(), 'runcast-scale-'));
const workflowsDir = path.join(root, 'workflows');
mkdirSync(workflowsDir);
writeFileSync(path.join(workflowsDir, 'line.json'), JSON.stringify({ ...line, workspace: WORKSPACE }));
const children: Child[] = [];
const open: WsTestClient[] = [];
let tokens: { alice: string; bob: string };

function env(redisUrl: string, prefix: string, extra: Record<string, string>): Record<string, string> {
  const dataDir = mkdtempSync(path.join(root, 'data-'));
  return {
    BUS: 'redis',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    AUTH_JWT_SECRET: JWT_SECRET,
    WORKFLOWS_DIR: workflowsDir,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LEASE_MS: String(LEASE_MS),
    SHUTDOWN_GRACE_MS: '2000',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

async function gateway(name: string, redisUrl: string, prefix: string): Promise<Gateway> {
  const g = await spawnGateway(name, env(redisUrl, prefix, { EXECUTE: 'false' }));
  children.push(g);
  return g;
}

async function worker(name: string, redisUrl: string, prefix: string): Promise<Child> {
  const w = await spawnWorker(name, env(redisUrl, prefix, { SECRET_EXECUTOR: name }));
  children.push(w);
  return w;
}

async function client(g: Gateway, token = tokens.alice): Promise<WsTestClient> {
  const c = await connect(g.wsUrl, { token });
  await c.next('ready');
  open.push(c);
  return c;
}

async function request(c: WsTestClient, msg: Record<string, unknown>): Promise<Frame> {
  const id = nanoid(8);
  c.send({ id, ...msg });
  return c.next((m) => (m.type === 'ack' || m.type === 'error') && m.id === id);
}

async function startRun(c: WsTestClient, msg: Record<string, unknown>): Promise<string> {
  const reply = await request(c, { type: 'run', ...msg });
  if (reply.type !== 'ack') throw new Error(`run refused: ${JSON.stringify(reply)}`);
  return reply.runId as string;
}

beforeAll(async () => {
  ensureBuilt();
  const sign = (sub: string, scopes: string[]) => signToken({ secret: JWT_SECRET, sub, workspace: WORKSPACE, scopes, ttl: '1h' });
  tokens = {
    alice: await sign('alice', ['runs:execute', 'runs:watch']),
    bob: await sign('bob', ['runs:execute', 'runs:watch', 'runs:cancel']),
  };
}, 240_000);

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop('SIGKILL')));
  if (process.env.SCALE_OUT_DUMP) for (const c of children) writeFileSync(path.join(process.env.SCALE_OUT_DUMP, `${c.name}.log`), c.output());
  rmSync(root, { recursive: true, force: true });
});

describe('two gateways and workers on one Redis', () => {
  const prefix = `rc-scale:${nanoid(8)}:`;
  let admin: Redis;
  let outside: http.Server;
  let outsideUrl: string;
  /** Every side effect: the run's tag and the worker that executed it. */
  const hits: { tag: string; executor: string }[] = [];
  const gateways: Gateway[] = [];
  const workers: Child[] = [];
  let spawned = 0;

  /** Two live gateways (a killed one is replaced). */
  async function twoGateways(): Promise<[Gateway, Gateway]> {
    for (let i = 0; i < 2; i++) if (!gateways[i]?.alive) gateways[i] = await gateway(`gateway-${++spawned}`, SHARED_REDIS, prefix);
    return [gateways[0]!, gateways[1]!];
  }

  async function liveWorkers(n: number): Promise<Child[]> {
    for (let i = workers.length - 1; i >= 0; i--) if (!workers[i]!.alive) workers.splice(i, 1);
    const missing = Math.max(0, n - workers.length);
    workers.push(...(await Promise.all(Array.from({ length: missing }, () => worker(`executor-${++spawned}`, SHARED_REDIS, prefix)))));
    return workers;
  }

  beforeAll(async () => {
    admin = new Redis(SHARED_REDIS);
    outside = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hits.push({ tag: (JSON.parse(body) as { tag: string }).tag, executor: String(req.headers['x-executor']) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => outside.listen(0, '127.0.0.1', resolve));
    outsideUrl = `http://127.0.0.1:${(outside.address() as AddressInfo).port}/effects`;
    await Promise.all([twoGateways(), liveWorkers(1)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await new Promise((resolve) => outside?.close(resolve));
    if (admin) {
      await deleteKeys(admin, prefix);
      await admin.quit();
    }
  });

  it('delivers a run started on gateway A to a viewer on gateway B: every event once, in order, the same frame texts', async () => {
    const [a, b] = await twoGateways();
    await liveWorkers(1);
    const viewerA = await client(a);
    const viewerB = await client(b);
    const runId = await startRun(viewerA, { workflow: ticker(6, 20), breakpoints: ['respond'] });
    const ack = await request(viewerB, { type: 'subscribe', runId, fromSeq: 0 });
    expect(ack).toEqual({ type: 'ack', id: expect.any(String), runId, lastSeq: expect.any(Number) });
    // Paused before the response: what follows the continue reaches B live, through Redis.
    await viewerA.next(kindOf('node.paused', 'respond')(runId));
    await viewerB.next(kindOf('node.paused', 'respond')(runId));
    expect((await request(viewerA, { type: 'continue', runId })).type).toBe('ack');
    const fromA = await viewerA.collect(isEvent(runId), terminal);
    const fromB = await viewerB.collect(isEvent(runId), terminal);
    const allA = viewerA.frames.filter(isEvent(runId));
    expectCompleteRun(allA);
    expect(allA.at(-1).event).toMatchObject({ kind: 'run.completed', response: { body: { last: 5 } } });
    expect(eventTexts(viewerB, runId)).toEqual(eventTexts(viewerA, runId));
    expect(fromB.length).toBeGreaterThan(0);
    expect(fromA.at(-1).seq).toBe(fromB.at(-1).seq);
  });

  it('runs a deployed workflow of the shared WORKFLOWS_DIR started through either gateway', async () => {
    const [a, b] = await twoGateways();
    await liveWorkers(1);
    for (const g of [a, b]) {
      const c = await client(g);
      const runId = await startRun(c, { workflowId: 'line' });
      const frames = await c.collect(isEvent(runId), terminal);
      expectCompleteRun(frames);
      expect(frames.at(-1).event).toMatchObject({ kind: 'run.completed', response: { body: { n: 2 } } });
    }
  });

  it('cancels through gateway B a run that a worker executes for gateway A', async () => {
    const [a, b] = await twoGateways();
    await liveWorkers(1);
    const viewerA = await client(a);
    const bob = await client(b, tokens.bob);
    const tag = nanoid();
    const runId = await startRun(viewerA, { workflow: sideEffect(outsideUrl, 20_000), input: { body: { tag } } });
    await viewerA.next(kindOf('node.started', 'wait')(runId));
    expect(await request(bob, { type: 'cancel', runId })).toMatchObject({ type: 'ack', runId });
    const frames = await viewerA.collect(isEvent(runId), terminal);
    expect(frames.at(-1).event).toMatchObject({ kind: 'run.cancelled', cancelledBy: 'bob', skippedNodeIds: ['respond'] });
    // Ended by the cancel, not by the 20 s delay running out.
    expect(frames.at(-1).event.durationMs).toBeLessThan(15_000);
    expectCompleteRun(viewerA.frames.filter(isEvent(runId)));
  });

  it('continues through gateway B a run paused at a breakpoint, also step by step', async () => {
    const [a, b] = await twoGateways();
    await liveWorkers(1);
    const viewerA = await client(a);
    const viewerB = await client(b);
    const runId = await startRun(viewerA, { workflow: line, breakpoints: ['last'] });
    await viewerA.next(kindOf('node.paused', 'last')(runId));
    expect(await request(viewerB, { type: 'continue', runId, step: true })).toMatchObject({ type: 'ack', runId });
    await viewerA.next(kindOf('node.completed', 'last')(runId));
    await viewerA.next(kindOf('node.paused', 'respond')(runId));
    expect(await request(viewerB, { type: 'continue', runId })).toMatchObject({ type: 'ack', runId });
    await viewerA.next((m) => isEvent(runId)(m) && terminal(m));
    const frames = viewerA.frames.filter(isEvent(runId));
    expectCompleteRun(frames);
    expect(frames.at(-1).event).toMatchObject({ kind: 'run.completed', response: { body: { n: 2 } } });
  });

  it('loses nothing when gateway A is killed mid-run: the viewer resumes on B with fromSeq', async () => {
    const [a, b] = await twoGateways();
    await liveWorkers(1);
    const viewer = await client(a);
    const runId = await startRun(viewer, { workflow: ticker(10, 40), breakpoints: ['respond'] });
    await viewer.next((m) => isEvent(runId)(m) && m.seq >= 5);
    await a.stop('SIGKILL');
    expect((await viewer.closed).code).toBe(1006);
    const fromA = viewer.frames.filter(isEvent(runId));
    const lastSeen = fromA.at(-1).seq as number;
    expect(fromA.some(terminal)).toBe(false);

    const resumed = await client(b);
    const ack = await request(resumed, { type: 'subscribe', runId, fromSeq: lastSeen });
    expect(ack).toMatchObject({ type: 'ack', runId });
    expect(ack.lastSeq).toBeGreaterThanOrEqual(lastSeen);
    if (!fromA.some(kindOf('node.paused', 'respond')(runId))) await resumed.next(kindOf('node.paused', 'respond')(runId));
    expect((await request(resumed, { type: 'continue', runId })).type).toBe('ack');
    await resumed.next((m) => isEvent(runId)(m) && terminal(m));
    const fromB = resumed.frames.filter(isEvent(runId));
    expect(fromB[0].seq).toBe(lastSeen + 1);
    expectCompleteRun([...fromA, ...fromB]);
  });

  it('closes viewers with 1001 on SIGTERM; they resume on the other gateway', async () => {
    const [a, b] = await twoGateways();
    await liveWorkers(1);
    const viewer = await client(b);
    const runId = await startRun(viewer, { workflow: ticker(10, 40), breakpoints: ['respond'] });
    await viewer.next((m) => isEvent(runId)(m) && m.seq >= 3);
    const exit = b.stop('SIGTERM');
    expect((await viewer.closed).code).toBe(1001);
    expect(await exit).toEqual({ code: 0, signal: null });
    const fromB = viewer.frames.filter(isEvent(runId));
    const lastSeen = fromB.at(-1).seq as number;

    const resumed = await client(a);
    expect(await request(resumed, { type: 'subscribe', runId, fromSeq: lastSeen })).toMatchObject({ type: 'ack', runId });
    if (!fromB.some(kindOf('node.paused', 'respond')(runId))) await resumed.next(kindOf('node.paused', 'respond')(runId));
    expect((await request(resumed, { type: 'continue', runId })).type).toBe('ack');
    await resumed.next((m) => isEvent(runId)(m) && terminal(m));
    const fromA = resumed.frames.filter(isEvent(runId));
    expectCompleteRun([...fromB, ...fromA]);
    expect(fromA.at(-1).event.kind).toBe('run.completed');
  });

  it('ends the run of a killed worker with worker_lost, never re-executes it, and the other worker takes new runs', async () => {
    const [a, b] = await twoGateways();
    const [w1, w2] = await liveWorkers(2);
    const viewer = await client(a);
    const tag = nanoid();
    const runId = await startRun(viewer, { workflow: sideEffect(outsideUrl, 20_000), input: { body: { tag } } });
    await viewer.next(kindOf('node.started', 'wait')(runId));
    const executor = hits.find((h) => h.tag === tag)?.executor;
    expect([w1!.name, w2!.name]).toContain(executor);
    const victim = [w1!, w2!].find((w) => w.name === executor)!;
    const survivor = [w1!, w2!].find((w) => w !== victim)!;

    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    const end = await viewer.next((m) => isEvent(runId)(m) && terminal(m), 20_000);
    const detectedMs = Date.now() - killedAt;
    expect(end.event).toMatchObject({
      kind: 'run.failed',
      failedNodeId: 'wait',
      error: { code: 'worker_lost', message: expect.any(String) },
      skippedNodeIds: ['respond'],
    });
    // Detected by the lease: within a few leases, not after the 20 s delay.
    expect(detectedMs).toBeLessThan(3 * LEASE_MS + 3_000);

    // The whole history, seen from the other gateway: one start, one side effect, one end.
    const watcher = await client(b);
    expect(await request(watcher, { type: 'subscribe', runId, fromSeq: 0 })).toMatchObject({ type: 'ack', runId });
    const history = await watcher.collect(isEvent(runId), terminal);
    expectCompleteRun(history);
    expect(history.filter((f) => f.event.kind === 'node.started' && f.event.nodeId === 'hit')).toHaveLength(1);
    expect(eventTexts(watcher, runId)).toEqual(eventTexts(viewer, runId));
    const status = await fetch(`${b.url}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${tokens.alice}` } });
    expect(await status.json()).toMatchObject({ runId, status: 'failed', endedAt: expect.any(String) });

    // New runs go to the survivor; the queue behind them holds no copy of the lost run.
    for (let i = 0; i < 2; i++) {
      const tag2 = nanoid();
      const next = await startRun(viewer, { workflow: sideEffect(outsideUrl, 0), input: { body: { tag: tag2 } } });
      const frames = await viewer.collect(isEvent(next), terminal);
      expect(frames.at(-1).event).toMatchObject({ kind: 'run.completed', response: { status: 201 } });
      expect(hits.filter((h) => h.tag === tag2)).toEqual([{ tag: tag2, executor: survivor.name }]);
    }
    await eventually(async () => (await admin.xlen(`${prefix}queue`)) === 0, { label: 'queue drained', timeoutMs: 10_000 });
    const [pending] = (await admin.xpending(`${prefix}queue`, 'executors')) as [number];
    expect(pending).toBe(0);
    expect(hits.filter((h) => h.tag === tag)).toEqual([{ tag, executor: victim.name }]);
    process.stdout.write(`scale-out: worker_lost seen by the viewer ${detectedMs} ms after SIGKILL (LEASE_MS=${LEASE_MS})\n`);
  }, 60_000);

  it('ends a standard run of a killed gateway with worker_lost, seen from the other gateway', async () => {
    const [a, b] = await twoGateways();
    const held: WorkflowDefinition = {
      id: 'held-standard',
      nodes: [
        { id: 'start', type: 'api.start', config: { method: 'POST', path: '/held' } },
        { id: 'wait', type: 'delay', config: { ms: 20_000 } },
        { id: 'respond', type: 'api.response', config: {} },
      ],
      edges: [{ from: 'start', to: 'wait' }, { from: 'wait', to: 'respond' }],
    };
    // Standard execution runs on the gateway that received it.
    const answer = fetch(`${a.url}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: held }),
    }).then(() => 'answered', () => 'connection lost');
    // Its run id, from the shared Redis.
    const runId = await eventually(async () => {
      let cursor = '0';
      do {
        const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}run:*:meta`, 'COUNT', 1000);
        cursor = next;
        for (const key of found) if ((await admin.hget(key, 'workflowId')) === JSON.stringify(held.id)) return key.split(':').at(-2);
      } while (cursor !== '0');
      return undefined;
    }, { label: 'standard run recorded' });
    const viewer = await client(b);
    expect(await request(viewer, { type: 'subscribe', runId, fromSeq: 0 })).toMatchObject({ type: 'ack' });
    await viewer.next(kindOf('node.started', 'wait')(runId!));
    await a.stop('SIGKILL');
    expect(await answer).toBe('connection lost');
    const end = await viewer.next((m) => isEvent(runId!)(m) && terminal(m), 20_000);
    expect(end.event).toMatchObject({ kind: 'run.failed', failedNodeId: 'wait', error: { code: 'worker_lost' }, skippedNodeIds: ['respond'] });
    expectCompleteRun(viewer.frames.filter(isEvent(runId!)));
  }, 60_000);
});

describe('a private Redis that stops and comes back', () => {
  const prefix = `rc-outage:${nanoid(6)}:`;
  let redis: RedisServer;
  let g: Gateway;

  beforeAll(async () => {
    redis = await createRedisServer();
    await redis.start();
    [g] = await Promise.all([gateway('outage-gateway', redis.url, prefix), worker('outage-worker', redis.url, prefix)]);
  }, 60_000);

  afterAll(async () => {
    await redis?.stop();
    redis?.remove();
  });

  async function completes(c: WsTestClient): Promise<void> {
    const runId = await startRun(c, { workflow: line });
    const frames = await c.collect(isEvent(runId), terminal, 20_000);
    expectCompleteRun(frames);
    expect(frames.at(-1).event.kind).toBe('run.completed');
  }

  /** This Redis's clients named by runcast, grouped by instance: `runcast:<instance>:<role>`. */
  async function runcastConnections(): Promise<Record<string, string[]>> {
    const admin = new Redis(redis.url);
    try {
      const list = (await admin.client('LIST')) as string;
      const byInstance = new Map<string, string[]>();
      for (const m of list.matchAll(/ name=runcast:([^:\s]+):(\S+)/g)) byInstance.set(m[1]!, [...(byInstance.get(m[1]!) ?? []), m[2]!]);
      return Object.fromEntries([...byInstance].map(([id, roles]) => [id, roles.sort()]));
    } finally {
      await admin.quit();
    }
  }

  it('reads live events for many viewers over a bounded number of Redis connections per instance', async () => {
    const c = await client(g);
    await completes(c);
    const runIds = await Promise.all(Array.from({ length: 10 }, () => startRun(c, { workflow: line, breakpoints: ['last'] })));
    for (const runId of runIds) await c.next(kindOf('node.paused', 'last')(runId));
    const before = await runcastConnections();
    // 30 more viewers on 3 connections, all live on paused runs.
    const viewers = await Promise.all([client(g), client(g), client(g)]);
    for (const v of viewers) for (const runId of runIds) expect((await request(v, { type: 'subscribe', runId })).type).toBe('ack');
    const after = await runcastConnections();
    expect(Object.keys(after)).toHaveLength(2); // the gateway and the worker
    for (const roles of Object.values(after)) expect(roles.length).toBeLessThanOrEqual(4);
    expect(after).toEqual(before);
    for (const runId of runIds) expect((await request(c, { type: 'continue', runId })).type).toBe('ack');
    for (const runId of runIds) for (const v of [c, ...viewers]) await v.next((m) => isEvent(runId)(m) && terminal(m));
  });

  it('says so on /readyz and refuses runs with `unavailable` while Redis is down, then recovers by itself', async () => {
    const c = await client(g);
    await completes(c);
    expect((await fetch(`${g.url}/readyz`)).status).toBe(200);

    await redis.stop();
    const downAt = Date.now();
    await eventually(async () => (await fetch(`${g.url}/readyz`)).status === 503, { label: '/readyz 503', timeoutMs: 10_000 });
    const readyz = await fetch(`${g.url}/readyz`);
    expect({ status: readyz.status, body: await readyz.json() }).toEqual({ status: 503, body: { status: 'unavailable' } });
    const refused = await request(c, { type: 'run', workflow: line });
    expect(refused).toMatchObject({ type: 'error', code: 'unavailable', message: expect.any(String) });
    const viaHttp = await fetch(`${g.url}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workflowId: 'line' }),
    });
    expect(viaHttp.status).toBe(503);
    expect(await viaHttp.json()).toMatchObject({ error: { code: 'unavailable' } });
    const downMs = Date.now() - downAt;

    await redis.start();
    const upAt = Date.now();
    await eventually(async () => (await fetch(`${g.url}/readyz`)).status === 200, { label: '/readyz 200 again', timeoutMs: 20_000 });
    const readyMs = Date.now() - upAt;
    // Same connection, same processes: the gateway and the worker reconnected on their own.
    await completes(c);
    process.stdout.write(`scale-out: outage of ${downMs} ms; /readyz 200 ${readyMs} ms and a run completed ${Date.now() - upAt} ms after Redis restarted\n`);
  }, 60_000);

  it('keeps a run in flight across a restart of a persistent Redis: every event once, and not worker_lost', async () => {
    // Restart with an append-only file: from now on a restart keeps runs and queue.
    await redis.stop();
    await redis.start({ persistent: true });
    await eventually(async () => (await fetch(`${g.url}/readyz`)).status === 200, { label: '/readyz 200', timeoutMs: 20_000 });
    const c = await client(g);
    const runId = await startRun(c, { workflow: ticker(40, 100) });
    await c.next((m) => isEvent(runId)(m) && m.seq >= 5);
    await redis.stop();
    const downAt = Date.now();
    await eventually(async () => (await fetch(`${g.url}/readyz`)).status === 503, { label: '/readyz 503', timeoutMs: 10_000 });
    expect(await request(c, { type: 'run', workflow: line })).toMatchObject({ type: 'error', code: 'unavailable' });
    // Down for longer than a lease (each answer above waited for a ping to time out): the worker could not renew it.
    expect(Date.now() - downAt).toBeGreaterThan(LEASE_MS);
    await redis.start({ persistent: true });
    const frames = await c.collect(isEvent(runId), terminal, 30_000);
    const all = c.frames.filter(isEvent(runId));
    expectCompleteRun(all);
    expect(all.at(-1).event).toMatchObject({ kind: 'run.completed', response: { body: { last: 39 } } });
    expect(frames.length).toBeGreaterThan(0);
  }, 60_000);
});
