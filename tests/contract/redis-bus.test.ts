/**
 * The Bus contract against a real Redis (REDIS_URL, default redis://127.0.0.1:6379),
 * then what only a shared bus can do: two instances on one Redis.
 * Every bus gets a key prefix unique to this test run; its keys are deleted afterwards.
 */
import Redis from 'ioredis';
import { deleteKeys } from '../helpers/redis';
import { nanoid } from 'nanoid';
import { createRedisBus, type RedisBusOptions } from '../../src/channels/redis';
import type { Bus, RunJob, SealedFrame } from '../../src/channels/types';
import { collectUntil, deferred, eventually } from '../helpers/waiter';
import { appendRange, busContract, frame, framesUntil, job, meta, newRunId, range, seqs } from './bus.contract';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `rc-test:${nanoid(8)}:`;
let admin: Redis;

beforeAll(() => {
  admin = new Redis(url);
});

afterAll(async () => {
  await deleteKeys(admin, runPrefix);
  await admin.quit();
});


const prefixes = new WeakMap<Bus, string>();

function makeBus(overrides: Partial<RedisBusOptions> = {}): Bus {
  const keyPrefix = overrides.keyPrefix ?? `${runPrefix}${nanoid(6)}:`;
  const bus = createRedisBus({ url, keyPrefix, instanceId: `i-${nanoid(6)}`, ...overrides });
  prefixes.set(bus, keyPrefix);
  return bus;
}

busContract(
  'redis',
  async () => makeBus(),
  async (bus) => deleteKeys(admin, prefixes.get(bus)!),
);

describe('Redis bus: two instances sharing one Redis', () => {
  let a: Bus;
  let b: Bus;
  let keyPrefix: string;

  beforeEach(() => {
    keyPrefix = `${runPrefix}${nanoid(6)}:`;
    a = makeBus({ keyPrefix, instanceId: 'instance-a' });
    b = makeBus({ keyPrefix, instanceId: 'instance-b' });
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await deleteKeys(admin, keyPrefix);
  });

  it('delivers a frame appended through A to a subscriber on B', async () => {
    const runId = newRunId();
    const got = framesUntil(3);
    const sub = await b.subscribe(runId, 0, got.push);
    await appendRange(a, runId, 1, 3);
    expect(seqs(await got.done)).toEqual([1, 2, 3]);
    sub.close();
  });

  it('gives subscribers on A and B the same 1..300 while A appends', async () => {
    const runId = newRunId();
    const appending = appendRange(a, runId, 1, 300);
    const onA = framesUntil(300, 'subscriber on A');
    const onB = framesUntil(300, 'subscriber on B');
    const subs = await Promise.all([a.subscribe(runId, 0, onA.push), b.subscribe(runId, 0, onB.push)]);
    await appending;
    expect(seqs(await onA.done)).toEqual(range(1, 300));
    expect(await onB.done).toEqual(await onA.done);
    for (const s of subs) s.close();
  });

  it('rejects an out-of-order append whichever instance makes it', async () => {
    const runId = newRunId();
    await appendRange(a, runId, 1, 2);
    await expect(b.append(frame(runId, 2, 'other'))).rejects.toThrow(/out of order/);
    await b.append(frame(runId, 3));
    expect(seqs(await a.history(runId, 0))).toEqual([1, 2, 3]);
  });

  it('shares run meta and values', async () => {
    const runId = newRunId();
    await a.createRun(meta(runId));
    await a.putValue(runId, 'ref', '"v"');
    await b.updateRun(runId, { status: 'paused' });
    expect(await a.getRun(runId)).toEqual(meta(runId, { status: 'paused' }));
    expect(await b.getValue(runId, 'ref')).toBe('"v"');
  });

  it('sums presence over instances and tells both', async () => {
    const runId = newRunId();
    const seenOnA = collectUntil<number>((items) => items.includes(5));
    const seenOnB = collectUntil<number>((items) => items.includes(5));
    await a.onPresence((r, n) => r === runId && seenOnA.push(n));
    await b.onPresence((r, n) => r === runId && seenOnB.push(n));
    expect(await a.presence(runId, 2)).toBe(2);
    expect(await b.presence(runId, 3)).toBe(5);
    expect(await seenOnA.done).toEqual([2, 5]);
    expect(await seenOnB.done).toEqual([2, 5]);
    expect(await a.presence(runId, -2)).toBe(3);
  });

  it("withdraws an instance's viewers when it closes", async () => {
    const runId = newRunId();
    await a.presence(runId, 2);
    expect(await b.presence(runId, 1)).toBe(3);
    await a.close();
    expect(await b.presence(runId, 0)).toBe(1);
  });

  it('sends a control command from A to a handler on B', async () => {
    const got = collectUntil((items) => items.length === 1);
    await b.onControl(got.push);
    await a.sendControl({ type: 'continue', runId: 'r', step: false });
    expect(await got.done).toEqual([{ type: 'continue', runId: 'r', step: false }]);
  });

  it('lets B consume a job enqueued on A', async () => {
    const runId = newRunId();
    const got = collectUntil<RunJob>((items) => items.length === 1);
    await b.consume(async (j) => got.push(j));
    await a.enqueue(job(runId));
    expect(await got.done).toEqual([job(runId)]);
  });

  it('hands each of 60 jobs to exactly one consumer across both instances', async () => {
    const runIds = range(1, 60).map(() => newRunId());
    const handled = collectUntil<[string, string]>((items) => items.length >= runIds.length);
    await a.consume(async (j) => handled.push(['a', j.runId]));
    await b.consume(async (j) => handled.push(['b', j.runId]));
    await Promise.all(runIds.map((r, i) => (i % 2 ? a : b).enqueue(job(r))));
    const marker = newRunId();
    await a.enqueue(job(marker));
    await eventually(() => handled.items.some(([, r]) => r === marker));
    const got = handled.items.filter(([, r]) => r !== marker).map(([, r]) => r);
    expect(got.sort()).toEqual([...runIds].sort());
  });

  it("reaps the job of an instance that died while running it", async () => {
    await Promise.all([a.close(), b.close()]);
    const leaseMs = 150;
    a = makeBus({ keyPrefix, instanceId: 'instance-a', leaseMs });
    b = makeBus({ keyPrefix, instanceId: 'instance-b', leaseMs });
    const runId = newRunId();
    const started = deferred();
    await a.consume(async () => {
      started.resolve();
      await new Promise(() => undefined); // runs until the instance dies
    });
    await b.enqueue(job(runId));
    await started.promise;
    await a.close(); // dies: its lease is no longer renewed

    const reaped: RunJob[] = [];
    await eventually(async () => (await b.reapLostRuns!(async (j) => void reaped.push(j))) > 0, { label: 'reaped' });
    expect(reaped).toEqual([job(runId)]);
    expect(await b.reapLostRuns!(async (j) => void reaped.push(j))).toBe(0);
  });

  it('does not reap a job whose instance is alive and renewing its lease', async () => {
    await Promise.all([a.close(), b.close()]);
    // Long enough that a loaded 2-core machine still renews in time (renewal every leaseMs/3).
    const leaseMs = 1500;
    a = makeBus({ keyPrefix, instanceId: 'instance-a', leaseMs });
    b = makeBus({ keyPrefix, instanceId: 'instance-b', leaseMs });
    const release = deferred();
    const started = deferred();
    const finished = deferred();
    await a.consume(async () => {
      started.resolve();
      await release.promise;
      finished.resolve();
    });
    await b.enqueue(job(newRunId()));
    await started.promise;
    // Watch for several lease periods (by Redis time, not by sleeping) that nobody reaps it.
    const until = Date.now() + leaseMs * 4;
    const reaped: RunJob[] = [];
    await eventually(async () => {
      await b.reapLostRuns!(async (j) => void reaped.push(j));
      return Date.now() > until;
    });
    expect(reaped).toEqual([]);
    release.resolve();
    await finished.promise;
  });

  it('offers a reaped job again when the reaping handler fails', async () => {
    await Promise.all([a.close(), b.close()]);
    const leaseMs = 100;
    a = makeBus({ keyPrefix, instanceId: 'instance-a', leaseMs });
    b = makeBus({ keyPrefix, instanceId: 'instance-b', leaseMs });
    const started = deferred();
    await a.consume(async () => {
      started.resolve();
      await new Promise(() => undefined);
    });
    await a.enqueue(job(newRunId()));
    await started.promise;
    await a.close();
    let attempts = 0;
    await eventually(async () => {
      await b.reapLostRuns!(async () => {
        attempts++;
        throw new Error('cannot end the run yet');
      });
      return attempts > 0;
    });
    const handled = await eventually(async () => (await b.reapLostRuns!(async () => undefined)) || undefined);
    expect(handled).toBe(1);
  });

  it('receives frames appended during a subscription on the other instance without gap (history race)', async () => {
    const runId = newRunId();
    await appendRange(a, runId, 1, 50);
    const got: SealedFrame[] = [];
    const done = deferred();
    const appending = appendRange(a, runId, 51, 200);
    const sub = await b.subscribe(runId, 25, (f) => {
      got.push(f);
      if (f.seq === 200) done.resolve();
    });
    await appending;
    await done.promise;
    expect(seqs(got)).toEqual(range(26, 200));
    sub.close();
  });
});
