/**
 * The Bus contract: one suite, run against every implementation
 * (memory-bus.test.ts, redis-bus.test.ts). No sleeps: callbacks feed collectors and
 * deferreds; the only polling is for key expiry, bounded by a deadline.
 */
import { nanoid } from 'nanoid';
import type { Bus, ControlCommand, RunJob, RunMeta, SealedFrame } from '../../src/channels/types';
import { collectUntil, deferred, eventually } from '../helpers/waiter';

/** A sealed `node.log` frame of a run, its message the seq. */
export function frame(runId: string, seq: number, message: string = String(seq)): SealedFrame {
  return {
    runId,
    seq,
    kind: 'node.log',
    text: JSON.stringify({
      type: 'event',
      runId,
      seq,
      time: '2024-01-01T00:00:00.000Z',
      event: { kind: 'node.log', nodeId: 'n', level: 'info', message },
    }),
  };
}

export async function appendRange(bus: Bus, runId: string, from: number, to: number): Promise<void> {
  for (let seq = from; seq <= to; seq++) await bus.append(frame(runId, seq));
}

export function seqs(frames: readonly SealedFrame[]): number[] {
  return frames.map((f) => f.seq);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export function newRunId(): string {
  return `run_${nanoid(10)}`;
}

export function meta(runId: string, overrides: Partial<RunMeta> = {}): RunMeta {
  return {
    runId,
    workflowId: 'wf-1',
    workspace: 'ws-1',
    startedBy: 'user-1',
    status: 'running',
    startedAt: '2024-01-01T00:00:00.000Z',
    endedAt: null,
    lastSeq: 0,
    ...overrides,
  };
}

export function job(runId: string): RunJob {
  return {
    runId,
    workflow: { id: 'wf-1', name: 'wf', nodes: [{ id: 'start', type: 'api.start' }], edges: [] },
    input: { method: 'GET', path: '/x' },
    breakpoints: [],
    startedBy: 'user-1',
    workspace: 'ws-1',
  };
}

/** Collect frames until the last one has seq `lastSeq`. */
export function framesUntil(lastSeq: number, label = `frames up to ${lastSeq}`) {
  return collectUntil<SealedFrame>((items) => items.length > 0 && items[items.length - 1]!.seq >= lastSeq, { label });
}

export function busContract(name: string, make: () => Promise<Bus>, cleanup?: (bus: Bus) => Promise<void>): void {
  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    const opened: Bus[] = [];

    beforeEach(async () => {
      bus = await make();
      opened.push(bus);
    });

    afterEach(async () => {
      for (const b of opened.splice(0)) {
        await b.close();
        if (cleanup) await cleanup(b);
      }
    });

    describe('#append and #history', () => {
      it('keeps frames in seq order and returns those after fromSeq', async () => {
        const runId = newRunId();
        await appendRange(bus, runId, 1, 5);
        expect(seqs(await bus.history(runId, 0))).toEqual([1, 2, 3, 4, 5]);
        expect(seqs(await bus.history(runId, 3))).toEqual([4, 5]);
        expect(await bus.history(runId, 5)).toEqual([]);
      });

      it('returns the frames exactly as appended', async () => {
        const runId = newRunId();
        const f = frame(runId, 1, 'héllo "quoted" \n line');
        await bus.append(f);
        expect(await bus.history(runId, 0)).toEqual([f]);
      });

      it('returns [] for an unknown run', async () => {
        expect(await bus.history(newRunId(), 0)).toEqual([]);
      });

      it('keeps runs apart', async () => {
        const a = newRunId();
        const b = newRunId();
        await appendRange(bus, a, 1, 3);
        await appendRange(bus, b, 1, 2);
        expect(seqs(await bus.history(a, 0))).toEqual([1, 2, 3]);
        expect((await bus.history(b, 0)).every((f) => f.runId === b)).toBe(true);
      });

      it.each([
        ['a first frame that is not seq 1', [], 2],
        ['a gap', [1, 2], 4],
        ['a different frame with an existing seq', [1, 2], 2],
        ['seq 0', [], 0],
      ])('rejects %s', async (_label, existing, bad) => {
        const runId = newRunId();
        for (const seq of existing) await bus.append(frame(runId, seq));
        await expect(bus.append(frame(runId, bad, 'other'))).rejects.toThrow(/out of order/);
        expect(seqs(await bus.history(runId, 0))).toEqual(existing);
      });

      it('accepts the identical frame again as a no-op (a retried append)', async () => {
        const runId = newRunId();
        await appendRange(bus, runId, 1, 2);
        await bus.append(frame(runId, 2));
        expect(seqs(await bus.history(runId, 0))).toEqual([1, 2]);
      });

      it("advances the run's lastSeq", async () => {
        const runId = newRunId();
        await bus.createRun(meta(runId));
        await appendRange(bus, runId, 1, 3);
        expect((await bus.getRun(runId))?.lastSeq).toBe(3);
      });
    });

    describe('#subscribe', () => {
      it('delivers the history from 0, then live frames', async () => {
        const runId = newRunId();
        await appendRange(bus, runId, 1, 3);
        const got = framesUntil(6);
        const sub = await bus.subscribe(runId, 0, got.push);
        expect(sub.lastSeq).toBe(3);
        await appendRange(bus, runId, 4, 6);
        expect(seqs(await got.done)).toEqual(range(1, 6));
        sub.close();
      });

      it('delivers the history before the returned promise resolves', async () => {
        const runId = newRunId();
        await appendRange(bus, runId, 1, 3);
        const got: SealedFrame[] = [];
        const sub = await bus.subscribe(runId, 0, (f) => got.push(f));
        expect(seqs(got)).toEqual([1, 2, 3]);
        sub.close();
      });

      it('delivers only frames after fromSeq', async () => {
        const runId = newRunId();
        await appendRange(bus, runId, 1, 5);
        const got = framesUntil(7);
        const sub = await bus.subscribe(runId, 3, got.push);
        expect(sub.lastSeq).toBe(5);
        await appendRange(bus, runId, 6, 7);
        expect(seqs(await got.done)).toEqual([4, 5, 6, 7]);
        sub.close();
      });

      it('delivers only live frames when fromSeq is the last seq', async () => {
        const runId = newRunId();
        await appendRange(bus, runId, 1, 4);
        const got = framesUntil(6);
        const sub = await bus.subscribe(runId, 4, got.push);
        expect(sub.lastSeq).toBe(4);
        expect(got.items).toEqual([]);
        await appendRange(bus, runId, 5, 6);
        expect(seqs(await got.done)).toEqual([5, 6]);
        sub.close();
      });

      it('delivers the frames of a run that has none yet, from seq 1', async () => {
        const runId = newRunId();
        const got = framesUntil(3);
        const sub = await bus.subscribe(runId, 0, got.push);
        expect(sub.lastSeq).toBe(0);
        await appendRange(bus, runId, 1, 3);
        expect(seqs(await got.done)).toEqual([1, 2, 3]);
        expect((await got.done).map((f) => f.text)).toEqual([1, 2, 3].map((s) => frame(runId, s).text));
        sub.close();
      });

      it('delivers 1..500 exactly once, in order, to subscribers that join while 500 frames are appended', async () => {
        const runId = newRunId();
        const total = 500;
        const subscribed: Promise<unknown>[] = [];
        const collectors: ReturnType<typeof framesUntil>[] = [];
        const subs: { close(): void }[] = [];
        const joinAt = new Set([0, 1, 37, 120, 250, 251, 400, 499]);
        const appender = (async () => {
          for (let seq = 1; seq <= total; seq++) {
            if (joinAt.has(seq - 1)) {
              // Join without waiting: the subscription races with the next appends.
              const got = framesUntil(total, `subscriber joining after seq ${seq - 1}`);
              collectors.push(got);
              subscribed.push(bus.subscribe(runId, 0, got.push).then((s) => subs.push(s)));
            }
            await bus.append(frame(runId, seq));
          }
        })();
        await appender;
        await Promise.all(subscribed);
        for (const got of collectors) expect(seqs(await got.done)).toEqual(range(1, total));
        for (const s of subs) s.close();
      });

      it('resumes from any fromSeq while frames are appended concurrently', async () => {
        const runId = newRunId();
        await appendRange(bus, runId, 1, 100);
        const appending = appendRange(bus, runId, 101, 300);
        const froms = [0, 50, 99, 100, 150];
        const collectors = froms.map((from) => ({ from, got: framesUntil(300, `from ${from}`) }));
        const subs = await Promise.all(collectors.map(({ from, got }) => bus.subscribe(runId, from, got.push)));
        await appending;
        for (const { from, got } of collectors) expect(seqs(await got.done)).toEqual(range(from + 1, 300));
        for (const s of subs) s.close();
      });

      it('gives several subscribers the same sequence', async () => {
        const runId = newRunId();
        const a = framesUntil(20);
        const b = framesUntil(20);
        const subA = await bus.subscribe(runId, 0, a.push);
        const subB = await bus.subscribe(runId, 0, b.push);
        await appendRange(bus, runId, 1, 20);
        expect(await a.done).toEqual(await b.done);
        expect(seqs(await a.done)).toEqual(range(1, 20));
        subA.close();
        subB.close();
      });

      it('stops delivering to a closed subscription', async () => {
        const runId = newRunId();
        const closedOne: SealedFrame[] = [];
        const first = deferred();
        const sub = await bus.subscribe(runId, 0, (f) => {
          closedOne.push(f);
          if (f.seq === 2) first.resolve();
        });
        const witness = framesUntil(5, 'witness');
        const witnessSub = await bus.subscribe(runId, 0, witness.push);
        await appendRange(bus, runId, 1, 2);
        await first.promise;
        sub.close();
        sub.close(); // closing twice is harmless
        await appendRange(bus, runId, 3, 5);
        await witness.done; // the witness got 5, so a live subscriber would have too
        expect(seqs(closedOne)).toEqual([1, 2]);
        witnessSub.close();
      });

      it('keeps delivering to others when a callback throws', async () => {
        const runId = newRunId();
        const throwing = await bus.subscribe(runId, 0, () => {
          throw new Error('viewer bug');
        });
        const got = framesUntil(3);
        const sub = await bus.subscribe(runId, 0, got.push);
        await appendRange(bus, runId, 1, 3);
        expect(seqs(await got.done)).toEqual([1, 2, 3]);
        throwing.close();
        sub.close();
      });

      it('delivers nothing more once the bus is closed', async () => {
        const runId = newRunId();
        const got: SealedFrame[] = [];
        await bus.subscribe(runId, 0, (f) => got.push(f));
        await appendRange(bus, runId, 1, 1);
        await eventually(() => got.length === 1);
        await bus.close();
        await expect(bus.append(frame(runId, 2))).rejects.toThrow();
        expect(seqs(got)).toEqual([1]);
      });
    });

    describe('#expire', () => {
      it('drops history and values after the ttl, and the meta tombstone after as long again', async () => {
        const runId = newRunId();
        await bus.createRun(meta(runId));
        await appendRange(bus, runId, 1, 3);
        await bus.putValue(runId, 'v1', '{"big":true}');
        await bus.expire(runId, 400);
        await eventually(async () => (await bus.history(runId, 0)).length === 0, { label: 'history expired' });
        await eventually(async () => (await bus.getValue(runId, 'v1')) === undefined, { label: 'value expired' });
        // The tombstone outlives the history and still knows the last seq.
        const tomb = await bus.getRun(runId);
        expect(tomb?.lastSeq).toBe(3);
        await eventually(async () => (await bus.getRun(runId)) === undefined, { label: 'meta expired' });
      });

      it('keeps everything until then', async () => {
        const runId = newRunId();
        await bus.createRun(meta(runId));
        await appendRange(bus, runId, 1, 2);
        await bus.expire(runId, 60_000);
        expect(seqs(await bus.history(runId, 0))).toEqual([1, 2]);
        expect(await bus.getRun(runId)).toBeDefined();
      });
    });

    describe('run meta', () => {
      it('creates and reads a run', async () => {
        const runId = newRunId();
        const m = meta(runId);
        await bus.createRun(m);
        expect(await bus.getRun(runId)).toEqual(m);
      });

      it('answers undefined for an unknown run', async () => {
        expect(await bus.getRun(newRunId())).toBeUndefined();
      });

      it('applies a patch and keeps the other fields', async () => {
        const runId = newRunId();
        await bus.createRun(meta(runId));
        await bus.updateRun(runId, { status: 'succeeded', endedAt: '2024-01-01T00:00:01.000Z' });
        expect(await bus.getRun(runId)).toEqual(meta(runId, { status: 'succeeded', endedAt: '2024-01-01T00:00:01.000Z' }));
      });

      it('does not share the stored object with the caller', async () => {
        const runId = newRunId();
        const m = meta(runId);
        await bus.createRun(m);
        m.status = 'failed';
        const read = await bus.getRun(runId);
        read!.status = 'cancelled';
        expect((await bus.getRun(runId))?.status).toBe('running');
      });

      it('rejects an update of an unknown run with not_found', async () => {
        await expect(bus.updateRun(newRunId(), { status: 'failed' })).rejects.toMatchObject({ code: 'not_found' });
      });
    });

    describe('values', () => {
      it('stores and reads values by ref', async () => {
        const runId = newRunId();
        await bus.putValue(runId, 'r1', '{"a":1}');
        await bus.putValue(runId, 'r2', '[1,2,3]');
        expect(await bus.getValue(runId, 'r1')).toBe('{"a":1}');
        expect(await bus.getValue(runId, 'r2')).toBe('[1,2,3]');
        expect(await bus.getValue(runId, 'nope')).toBeUndefined();
        expect(await bus.getValue(newRunId(), 'r1')).toBeUndefined();
      });
    });

    describe('control', () => {
      it('fans a command out to every handler', async () => {
        const a = collectUntil<ControlCommand>((items) => items.length === 2);
        const b = collectUntil<ControlCommand>((items) => items.length === 2);
        await bus.onControl(a.push);
        await bus.onControl(b.push);
        const cancel: ControlCommand = { type: 'cancel', runId: 'r1', by: 'u1' };
        const cont: ControlCommand = { type: 'continue', runId: 'r1', step: true };
        await bus.sendControl(cancel);
        await bus.sendControl(cont);
        expect(await a.done).toEqual([cancel, cont]);
        expect(await b.done).toEqual([cancel, cont]);
      });

      it('stops calling a handler once it is removed', async () => {
        const removed: ControlCommand[] = [];
        const off = await bus.onControl((c) => removed.push(c));
        const kept = collectUntil<ControlCommand>((items) => items.length === 2);
        await bus.onControl(kept.push);
        await bus.sendControl({ type: 'cancel', runId: 'r1', by: 'u1' });
        await eventually(() => kept.items.length === 1);
        off();
        await bus.sendControl({ type: 'cancel', runId: 'r2', by: 'u1' });
        await kept.done;
        expect(removed.map((c) => c.runId)).toEqual(['r1']);
      });
    });

    describe('presence', () => {
      it('returns the total viewers of a run and tells onPresence handlers', async () => {
        const runId = newRunId();
        const other = newRunId();
        const seen = collectUntil<[string, number]>((items) => items.some(([r, n]) => r === runId && n === 0));
        await bus.onPresence((r, n) => seen.push([r, n]));
        expect(await bus.presence(runId, 1)).toBe(1);
        expect(await bus.presence(runId, 2)).toBe(3);
        expect(await bus.presence(other, 1)).toBe(1);
        expect(await bus.presence(runId, -1)).toBe(2);
        expect(await bus.presence(runId, -2)).toBe(0);
        const forRun = (await seen.done).filter(([r]) => r === runId).map(([, n]) => n);
        expect(forRun).toEqual([1, 3, 2, 0]);
      });

      it('never goes below zero', async () => {
        const runId = newRunId();
        expect(await bus.presence(runId, -1)).toBe(0);
        expect(await bus.presence(runId, 1)).toBe(1);
      });
    });

    describe('queue', () => {
      it('hands each of 40 jobs to exactly one of two consumers', async () => {
        const runIds = range(1, 40).map(() => newRunId());
        const marker = newRunId();
        // The marker is enqueued last: once it arrived, a duplicate would have too.
        const handled = collectUntil<string>((items) => items.includes(marker) && items.length >= runIds.length + 1);
        await bus.consume(async (j) => handled.push(j.runId));
        await bus.consume(async (j) => handled.push(j.runId));
        for (const runId of [...runIds, marker]) await bus.enqueue(job(runId));
        expect([...(await handled.done)].sort()).toEqual([...runIds, marker].sort());
      });

      it('delivers the job unchanged', async () => {
        const runId = newRunId();
        const got = collectUntil<RunJob>((items) => items.length === 1);
        await bus.consume(async (j) => got.push(j));
        await bus.enqueue(job(runId));
        expect(await got.done).toEqual([job(runId)]);
      });

      it('keeps jobs enqueued before any consumer until one starts', async () => {
        const runIds = [newRunId(), newRunId(), newRunId()];
        for (const runId of runIds) await bus.enqueue(job(runId));
        const got = collectUntil<string>((items) => items.length === 3);
        await bus.consume(async (j) => got.push(j.runId));
        expect((await got.done).sort()).toEqual([...runIds].sort());
      });

      it('runs jobs concurrently: a second job starts while the first is running', async () => {
        const started = collectUntil<string>((items) => items.length === 2);
        const release = deferred();
        await bus.consume(async (j) => {
          started.push(j.runId);
          await release.promise;
        });
        await bus.enqueue(job(newRunId()));
        await bus.enqueue(job(newRunId()));
        await started.done;
        release.resolve();
      });

      it('hands no job to a stopped consumer', async () => {
        const stoppedGot: string[] = [];
        const stop = await bus.consume(async (j) => {
          stoppedGot.push(j.runId);
        });
        await stop();
        const got = collectUntil<string>((items) => items.length === 3);
        await bus.consume(async (j) => got.push(j.runId));
        for (let i = 0; i < 3; i++) await bus.enqueue(job(newRunId()));
        await got.done;
        expect(stoppedGot).toEqual([]);
      });

      it('keeps going when a handler rejects', async () => {
        const got = collectUntil<string>((items) => items.length === 2);
        await bus.consume(async (j) => {
          got.push(j.runId);
          throw new Error('executor bug');
        });
        await bus.enqueue(job(newRunId()));
        await bus.enqueue(job(newRunId()));
        expect(await got.done).toHaveLength(2);
      });
    });

    describe('#healthy and #close', () => {
      it('is healthy while open', async () => {
        expect(await bus.healthy()).toBe(true);
      });

      it('can be closed twice', async () => {
        await bus.close();
        await expect(bus.close()).resolves.toBeUndefined();
      });
    });
  });
}
