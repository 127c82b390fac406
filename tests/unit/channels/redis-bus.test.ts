/**
 * What the contract cannot see of the Redis bus: its key layout, how many connections
 * it holds, and that it survives its connections being killed. Real Redis.
 */
import Redis from 'ioredis';
import { deleteKeys } from '../../helpers/redis';
import { nanoid } from 'nanoid';
import { createRedisBus, type RedisBusOptions } from '../../../src/channels/redis';
import type { Bus, ControlCommand, SealedFrame } from '../../../src/channels/types';
import { appendRange, frame, framesUntil, job, meta, newRunId, range, seqs } from '../../contract/bus.contract';
import { collectUntil, deferred, eventually } from '../../helpers/waiter';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `rc-unit:${nanoid(8)}:`;
let admin: Redis;
const opened: Bus[] = [];

beforeAll(() => {
  admin = new Redis(url);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

afterAll(async () => {
  await deleteKeys(admin, runPrefix);
  await admin.quit();
});

function open(overrides: Partial<RedisBusOptions> = {}): Bus {
  const bus = createRedisBus({ url, keyPrefix: `${runPrefix}${nanoid(6)}:`, instanceId: `i-${nanoid(6)}`, ...overrides });
  opened.push(bus);
  return bus;
}

/** Ids of this instance's connections, by role (cmd, sub, events, queue). */
async function connectionsOf(instanceId: string): Promise<Map<string, string>> {
  const list = (await admin.client('LIST')) as string;
  const byRole = new Map<string, string>();
  for (const line of list.split('\n')) {
    const name = /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '';
    const id = /(?:^| )id=(\d+)/.exec(line)?.[1];
    if (id && name.startsWith(`runcast:${instanceId}:`)) byRole.set(name.slice(`runcast:${instanceId}:`.length), id);
  }
  return byRole;
}

describe('createRedisBus', () => {
  it('requires an instanceId', () => {
    expect(() => createRedisBus({ url, instanceId: '' })).toThrow(/instanceId/);
  });

  describe('key layout', () => {
    it('stores a run under <prefix>run:<runId>:{events,meta,values,presence} with stream ids <seq>-0', async () => {
      const keyPrefix = `${runPrefix}layout:`;
      const bus = open({ keyPrefix, orphanTtlMs: 3_600_000 });
      const runId = newRunId();
      await bus.createRun(meta(runId));
      await appendRange(bus, runId, 1, 2);
      await bus.putValue(runId, 'ref1', '{}');
      await bus.presence(runId, 1);
      const entries = await admin.xrange(`${keyPrefix}run:${runId}:events`, '-', '+');
      expect(entries).toEqual([
        ['1-0', ['k', 'node.log', 't', frame(runId, 1).text]],
        ['2-0', ['k', 'node.log', 't', frame(runId, 2).text]],
      ]);
      expect(await admin.hget(`${keyPrefix}run:${runId}:meta`, 'lastSeq')).toBe('2');
      expect(await admin.hget(`${keyPrefix}run:${runId}:values`, 'ref1')).toBe('{}');
      expect(Object.values(await admin.hgetall(`${keyPrefix}run:${runId}:presence`))).toEqual(['1']);
      // The safety-net TTL is set on first write.
      for (const k of ['events', 'meta', 'values', 'presence']) {
        const ttl = await admin.pttl(`${keyPrefix}run:${runId}:${k}`);
        expect(ttl).toBeGreaterThan(3_500_000);
      }
    });

    it('expires the run with its terminal frame when historyTtlMs is set', async () => {
      const keyPrefix = `${runPrefix}terminal:`;
      const bus = open({ keyPrefix, historyTtlMs: 120_000 });
      const runId = newRunId();
      await bus.createRun(meta(runId));
      await bus.putValue(runId, 'ref1', '{}');
      await bus.append(frame(runId, 1));
      expect(await admin.pttl(`${keyPrefix}run:${runId}:events`)).toBeGreaterThan(120_000);
      await bus.append({ runId, seq: 2, kind: 'run.completed', text: '{"type":"event"}' });
      for (const k of ['events', 'values']) {
        const ttl = await admin.pttl(`${keyPrefix}run:${runId}:${k}`);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(120_000);
      }
      // The meta stays as long again: a tombstone that answers history_expired.
      const metaTtl = await admin.pttl(`${keyPrefix}run:${runId}:meta`);
      expect(metaTtl).toBeGreaterThan(120_000);
      expect(metaTtl).toBeLessThanOrEqual(240_000);
    });

    it('lets expire() shorten the safety-net TTL and later appends leave it alone', async () => {
      const keyPrefix = `${runPrefix}ttl:`;
      const bus = open({ keyPrefix });
      const runId = newRunId();
      await appendRange(bus, runId, 1, 1);
      await bus.expire(runId, 60_000);
      await bus.append(frame(runId, 2));
      expect(await admin.pttl(`${keyPrefix}run:${runId}:events`)).toBeLessThanOrEqual(60_000);
    });
  });

  describe('connections', () => {
    it('holds at most four connections however many viewers and runs it serves', async () => {
      const instanceId = `i-${nanoid(6)}`;
      const bus = open({ instanceId });
      const runIds = range(1, 50).map(() => newRunId());
      const subs = await Promise.all(runIds.flatMap((r) => range(1, 4).map(() => bus.subscribe(r, 0, () => undefined))));
      await bus.onControl(() => undefined);
      await bus.onPresence(() => undefined);
      await bus.consume(async () => undefined);
      const got = framesUntil(1);
      subs.push(await bus.subscribe(runIds[49]!, 0, got.push));
      await bus.append(frame(runIds[49]!, 1));
      await got.done;
      const conns = await connectionsOf(instanceId);
      expect([...conns.keys()].sort()).toEqual(['cmd', 'events', 'queue', 'sub']);
      for (const s of subs) s.close();
    });

    it('opens only the command connection until more is needed', async () => {
      const instanceId = `i-${nanoid(6)}`;
      const bus = open({ instanceId });
      expect(await bus.healthy()).toBe(true);
      expect([...(await connectionsOf(instanceId)).keys()]).toEqual(['cmd']);
    });

    it('closes all its connections', async () => {
      const instanceId = `i-${nanoid(6)}`;
      const bus = open({ instanceId });
      await bus.subscribe(newRunId(), 0, () => undefined);
      await bus.onControl(() => undefined);
      await bus.consume(async () => undefined);
      await bus.close();
      await eventually(async () => (await connectionsOf(instanceId)).size === 0);
    });
  });

  describe('live delivery', () => {
    it('wakes the blocked read when a run is added, without waiting for the block timeout', async () => {
      const bus = open({ blockMs: 60_000 });
      const first = framesUntil(1, 'first run');
      const r1 = newRunId();
      await bus.subscribe(r1, 0, first.push);
      await bus.append(frame(r1, 1));
      await first.done; // the loop now blocks for up to 60 s on r1 only
      const r2 = newRunId();
      const second = framesUntil(1, 'second run');
      await bus.subscribe(r2, 0, second.push);
      await bus.append(frame(r2, 1));
      expect(seqs(await second.done)).toEqual([1]);
    });

    it('closes promptly while its reads are blocked', async () => {
      const bus = open({ blockMs: 60_000 });
      await bus.subscribe(newRunId(), 0, () => undefined);
      await bus.consume(async () => undefined);
      await bus.healthy();
      const started = Date.now();
      await bus.close();
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('answers history_expired for frames trimmed by maxHistoryFrames', async () => {
      const bus = open({ maxHistoryFrames: 3 });
      const runId = newRunId();
      await appendRange(bus, runId, 1, 10);
      expect(seqs(await bus.history(runId, 7))).toEqual([8, 9, 10]);
      await expect(bus.history(runId, 2)).rejects.toMatchObject({ code: 'history_expired' });
      await expect(bus.subscribe(runId, 0, () => undefined)).rejects.toMatchObject({ code: 'history_expired' });
      const got = framesUntil(11);
      const sub = await bus.subscribe(runId, 7, got.push);
      await bus.append(frame(runId, 11));
      expect(seqs(await got.done)).toEqual([8, 9, 10, 11]);
      sub.close();
    });

    it('pages through a long history', async () => {
      const keyPrefix = `${runPrefix}paging:`;
      const bus = open({ keyPrefix });
      const runId = newRunId();
      // Seeded directly, in the layout append() writes (checked above), to keep the test fast.
      const pipeline = admin.pipeline();
      for (let seq = 1; seq <= 2_500; seq++) {
        pipeline.xadd(`${keyPrefix}run:${runId}:events`, `${seq}-0`, 'k', 'node.log', 't', frame(runId, seq).text);
      }
      await pipeline.exec();
      expect(seqs(await bus.history(runId, 0))).toEqual(range(1, 2_500));
      const got = framesUntil(2_501);
      const sub = await bus.subscribe(runId, 10, got.push);
      expect(sub.lastSeq).toBe(2_500);
      await bus.append(frame(runId, 2_501));
      expect(seqs(await got.done)).toEqual(range(11, 2_501));
      sub.close();
    });
  });

  describe('recovery', () => {
    it('delivers every frame once, in order, when its connections are killed mid-run', async () => {
      const keyPrefix = `${runPrefix}kill:`;
      const writer = open({ keyPrefix });
      const instanceId = `i-${nanoid(6)}`;
      const reader = open({ keyPrefix, instanceId });
      const runId = newRunId();
      const got = framesUntil(400);
      const killed = deferred();
      const sub = await reader.subscribe(runId, 0, (f: SealedFrame) => {
        got.push(f);
        if (f.seq === 100) killed.resolve();
      });
      const appending = (async () => {
        for (let seq = 1; seq <= 400; seq++) {
          await writer.append(frame(runId, seq));
          if (seq === 100) await killed.promise; // kill while the reader is mid-stream
        }
      })();
      await killed.promise;
      for (const id of (await connectionsOf(instanceId)).values()) await admin.client('KILL', 'ID', id);
      await appending;
      expect(seqs(await got.done)).toEqual(range(1, 400));
      await eventually(() => reader.healthy());
      sub.close();
    });

    it('keeps consuming jobs after its queue connection is killed', async () => {
      const instanceId = `i-${nanoid(6)}`;
      const bus = open({ instanceId, blockMs: 60_000 });
      const got = collectUntil<string>((items) => items.length === 2);
      await bus.consume(async (j) => got.push(j.runId));
      const first = newRunId();
      await bus.enqueue(job(first));
      await eventually(() => got.items.length === 1);
      await eventually(async () => (await connectionsOf(instanceId)).has('queue'));
      await admin.client('KILL', 'ID', (await connectionsOf(instanceId)).get('queue')!);
      const second = newRunId();
      await bus.enqueue(job(second));
      expect(await got.done).toEqual([first, second]);
    });

    it('receives control commands again after its pub/sub connection is killed', async () => {
      const instanceId = `i-${nanoid(6)}`;
      const bus = open({ instanceId });
      const got = collectUntil<ControlCommand>((items) => items.length === 1);
      await bus.onControl(got.push);
      await admin.client('KILL', 'ID', (await connectionsOf(instanceId)).get('sub')!);
      // Pub/sub is fire and forget: a command sent while resubscribing is lost, so send until heard.
      await eventually(async () => {
        await bus.sendControl({ type: 'cancel', runId: 'r', by: 'u' });
        await new Promise((resolve) => setImmediate(resolve));
        return got.items.length > 0;
      });
      expect(got.items[0]).toEqual({ type: 'cancel', runId: 'r', by: 'u' });
    });

    it('is unhealthy while Redis cannot be reached, and closes cleanly', async () => {
      const errors: unknown[] = [];
      const bus = open({ url: 'redis://127.0.0.1:1', healthTimeoutMs: 200, onError: (e) => errors.push(e) });
      expect(await bus.healthy()).toBe(false);
      await bus.close();
      expect(errors.length).toBeGreaterThan(0);
    });
  });
});

describe('createRedisBus › leases', () => {
  it('tells a running job that its lease was lost (the run was taken over)', async () => {
    const keyPrefix = `${runPrefix}lease:`;
    const bus = open({ keyPrefix, leaseMs: 300 });
    const started = deferred<AbortSignal>();
    const lost = deferred();
    const release = deferred();
    await bus.consume(async (_job, leaseLost) => {
      leaseLost.addEventListener('abort', () => lost.resolve());
      started.resolve(leaseLost);
      await release.promise;
    });
    await bus.enqueue(job(newRunId()));
    const signal = await started.promise;
    expect(signal.aborted).toBe(false);
    // Another instance claims the entry (what reaping a lost run does).
    const pending = (await admin.xpending(`${keyPrefix}queue`, 'executors', '-', '+', 10)) as [string, string, number, number][];
    expect(pending).toHaveLength(1);
    await admin.xclaim(`${keyPrefix}queue`, 'executors', 'another-instance', 0, pending[0]![0]);
    await lost.promise;
    expect(signal.aborted).toBe(true);
    release.resolve();
  });
});

describe('createRedisBus › held runs (standard execution)', () => {
  it('hands a held run to another instance once its holder stops renewing, exactly once', async () => {
    const keyPrefix = `${runPrefix}held:`;
    const a = open({ keyPrefix, leaseMs: 300 });
    const b = open({ keyPrefix, leaseMs: 300 });
    const c = open({ keyPrefix, leaseMs: 300 });
    const runId = newRunId();
    await a.holdRun!(runId);
    await a.close(); // dies without releasing
    const reaped: string[] = [];
    await eventually(async () => {
      await Promise.all([b.reapLostHeldRuns!(async (id) => void reaped.push(id)), c.reapLostHeldRuns!(async (id) => void reaped.push(id))]);
      return reaped.length > 0;
    }, { label: 'held run reaped' });
    expect(await b.reapLostHeldRuns!(async (id) => void reaped.push(id))).toBe(0);
    expect(reaped).toEqual([runId]);
  });

  it('keeps a held run whose holder renews, and forgets a released one', async () => {
    const keyPrefix = `${runPrefix}held-live:`;
    const a = open({ keyPrefix, leaseMs: 1500 });
    const b = open({ keyPrefix, leaseMs: 1500 });
    const release = await a.holdRun!(newRunId());
    const until = Date.now() + 4500;
    const reaped: string[] = [];
    await eventually(async () => {
      await b.reapLostHeldRuns!(async (id) => void reaped.push(id));
      return Date.now() > until;
    }, { timeoutMs: 20_000 });
    expect(reaped).toEqual([]);
    await release();
    expect(await admin.zcard(`${keyPrefix}held`)).toBe(0);
  });
});

