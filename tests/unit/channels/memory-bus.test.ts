import fc from 'fast-check';
import { createMemoryBus } from '../../../src/channels/memory';
import type { Bus, SealedFrame, Subscription } from '../../../src/channels/types';
import { appendRange, frame, job, range, seqs } from '../../contract/bus.contract';
import { collectUntil, eventually } from '../../helpers/waiter';

describe('createMemoryBus', () => {
  let bus: Bus;
  afterEach(async () => bus.close());

  describe('#append', () => {
    it('names the expected and the received seq when it rejects', async () => {
      bus = createMemoryBus();
      await appendRange(bus, 'r', 1, 3);
      await expect(bus.append(frame('r', 7))).rejects.toThrow('run r: append out of order: expected seq 4, got 7');
    });
  });

  describe('maxHistoryFrames', () => {
    beforeEach(async () => {
      bus = createMemoryBus({ maxHistoryFrames: 3 });
      await appendRange(bus, 'r', 1, 10);
    });

    it('keeps only the newest frames', async () => {
      expect(seqs(await bus.history('r', 7))).toEqual([8, 9, 10]);
    });

    it('answers history_expired for frames no longer kept', async () => {
      await expect(bus.history('r', 6)).rejects.toMatchObject({ code: 'history_expired' });
      await expect(bus.subscribe('r', 0, () => undefined)).rejects.toMatchObject({ code: 'history_expired' });
    });

    it('still subscribes from the oldest kept frame on', async () => {
      const got: SealedFrame[] = [];
      const sub = await bus.subscribe('r', 7, (f) => got.push(f));
      await bus.append(frame('r', 11));
      expect(seqs(got)).toEqual([8, 9, 10, 11]);
      sub.close();
    });
  });

  describe('re-entrant callbacks', () => {
    it('keeps every subscriber in order when a callback appends the next frame', async () => {
      bus = createMemoryBus();
      const first: number[] = [];
      const second: number[] = [];
      await bus.subscribe('r', 0, (f) => {
        first.push(f.seq);
        if (f.seq < 5) void bus.append(frame('r', f.seq + 1));
      });
      await bus.subscribe('r', 0, (f) => second.push(f.seq));
      await bus.append(frame('r', 1));
      expect(first).toEqual([1, 2, 3, 4, 5]);
      expect(second).toEqual([1, 2, 3, 4, 5]);
    });

    it('gives a subscriber added from inside a callback no gap and no duplicate', async () => {
      bus = createMemoryBus();
      const late: number[] = [];
      await bus.subscribe('r', 0, (f) => {
        if (f.seq === 2) void bus.subscribe('r', 0, (g) => late.push(g.seq));
      });
      await appendRange(bus, 'r', 1, 4);
      expect(late).toEqual([1, 2, 3, 4]);
    });
  });

  describe('#expire', () => {
    it('replaces an earlier expiry', async () => {
      bus = createMemoryBus();
      await appendRange(bus, 'r', 1, 1);
      await bus.expire('r', 3_600_000);
      await bus.expire('r', 5);
      await eventually(async () => (await bus.history('r', 0)).length === 0);
    });

    it('lets a run be written again after it expired, tombstone included', async () => {
      bus = createMemoryBus();
      await appendRange(bus, 'r', 1, 2);
      await bus.expire('r', 1);
      await eventually(async () => (await bus.history('r', 0)).length === 0);
      await expect(bus.append(frame('r', 1))).rejects.toThrow(/out of order/);
      await eventually(async () => {
        try {
          await bus.append(frame('r', 1));
          return true;
        } catch {
          return false;
        }
      });
      expect(seqs(await bus.history('r', 0))).toEqual([1]);
    });
  });

  describe('queue', () => {
    it('hands waiting jobs to the first consumer, then alternates between consumers', async () => {
      bus = createMemoryBus();
      for (let i = 0; i < 4; i++) await bus.enqueue(job(`r${i}`));
      const got = collectUntil<[string, string]>((items) => items.length === 6);
      await bus.consume(async (j) => got.push(['a', j.runId]));
      await bus.consume(async (j) => got.push(['b', j.runId]));
      await bus.enqueue(job('r4'));
      await bus.enqueue(job('r5'));
      const items = await got.done;
      expect(items.slice(0, 4)).toEqual(['r0', 'r1', 'r2', 'r3'].map((r) => ['a', r]));
      expect(items.slice(4).map(([c]) => c).sort()).toEqual(['a', 'b']);
    });

    it('hands each consumer its own copy of the job', async () => {
      bus = createMemoryBus();
      const original = job('r');
      const got = collectUntil<unknown>((items) => items.length === 1);
      await bus.consume(async (j) => got.push(j));
      await bus.enqueue(original);
      const [received] = await got.done;
      expect(received).toEqual(original);
      expect(received).not.toBe(original);
    });
  });

  it('reports callback exceptions to onError', async () => {
    const errors: unknown[] = [];
    bus = createMemoryBus({ onError: (e) => errors.push(e) });
    await bus.onControl(() => {
      throw new Error('handler bug');
    });
    await bus.sendControl({ type: 'cancel', runId: 'r', by: 'u' });
    expect(errors).toEqual([new Error('handler bug')]);
  });

  it('is unhealthy once closed', async () => {
    bus = createMemoryBus();
    await bus.close();
    expect(await bus.healthy()).toBe(false);
  });

  describe('property: any interleaving of appends, subscriptions and closes', () => {
    type Step = { op: 'append' } | { op: 'subscribe'; back: number } | { op: 'close'; index: number } | { op: 'tick' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 5, arbitrary: fc.constant<Step>({ op: 'append' }) },
      { weight: 2, arbitrary: fc.nat(6).map<Step>((back) => ({ op: 'subscribe', back })) },
      { weight: 1, arbitrary: fc.nat(20).map<Step>((index) => ({ op: 'close', index })) },
      { weight: 1, arbitrary: fc.constant<Step>({ op: 'tick' }) },
    );

    it('gives every open subscription exactly fromSeq+1..last, in order', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
          const b = createMemoryBus();
          let last = 0;
          const pending: Promise<unknown>[] = [];
          const subs: { from: number; got: number[]; sub?: Subscription; closed: boolean }[] = [];
          for (const s of steps) {
            if (s.op === 'append') pending.push(b.append(frame('r', ++last)));
            else if (s.op === 'subscribe') {
              const entry: (typeof subs)[number] = { from: Math.max(0, last - s.back), got: [], closed: false };
              subs.push(entry);
              pending.push(b.subscribe('r', entry.from, (f) => entry.got.push(f.seq)).then((sub) => (entry.sub = sub)));
            } else if (s.op === 'close') {
              const entry = subs[s.index % Math.max(1, subs.length)];
              if (entry?.sub) {
                entry.sub.close();
                entry.closed = true;
              }
            } else await Promise.resolve();
          }
          await Promise.all(pending);
          for (const entry of subs) {
            if (entry.closed) expect(entry.got).toEqual(range(entry.from + 1, entry.from + entry.got.length));
            else expect(entry.got).toEqual(range(entry.from + 1, last));
          }
          await b.close();
        }),
        { numRuns: 200 },
      );
    });
  });
});
