/**
 * The embedded bus: everything in this process's memory. The default when `BUS=memory`;
 * a single instance. Same contract as the Redis bus (tests/contract/bus.contract.ts).
 *
 * Ordering: per run, frames are kept in an array and delivered by one non-reentrant
 * drain loop, so a callback that appends or subscribes cannot reorder deliveries.
 * A subscription replays its history and registers its listener in the same tick, and
 * every listener drops frames it has already seen, so there is no gap and no duplicate.
 */
import { RuncastError } from '../protocol/errors';
import type { RunId } from '../protocol/events';
import type { Bus, ControlCommand, RunJob, RunMeta, SealedFrame, Subscription } from './types';

export interface MemoryBusOptions {
  /**
   * Frames kept per run; older ones are dropped and asking for them answers
   * `history_expired`. Default: unlimited.
   */
  maxHistoryFrames?: number;
  /** Told about exceptions thrown by callbacks (onFrame, handlers, consumers). Default: ignored. */
  onError?: (err: unknown) => void;
}

interface RunRecord {
  frames: SealedFrame[];
  lastSeq: number;
  /** Last seq handed to the live listeners. */
  deliveredSeq: number;
  delivering: boolean;
  meta?: RunMeta;
  values: Map<string, string>;
  expiry?: NodeJS.Timeout;
}

interface Listener {
  last: number;
  closed: boolean;
  onFrame(frame: SealedFrame): void;
}

type JobHandler = (job: RunJob) => Promise<void>;
const NEVER_LOST = new AbortController().signal;

/**
 * Create the in-memory bus.
 * @throws nothing at creation; `append` rejects a frame whose seq is not the run's last + 1.
 */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const maxHistoryFrames = options.maxHistoryFrames ?? Infinity;
  const onError = options.onError ?? (() => undefined);

  const runs = new Map<RunId, RunRecord>();
  const listeners = new Map<RunId, Set<Listener>>();
  const controlHandlers = new Set<(cmd: ControlCommand) => void>();
  const presenceCounts = new Map<RunId, number>();
  const presenceHandlers = new Set<(runId: RunId, viewers: number) => void>();
  const waitingJobs: RunJob[] = [];
  const consumers: JobHandler[] = [];
  let nextConsumer = 0;
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new RuncastError('unavailable', 'bus is closed');
  }

  function record(runId: RunId): RunRecord {
    let rec = runs.get(runId);
    if (!rec) {
      rec = { frames: [], lastSeq: 0, deliveredSeq: 0, delivering: false, values: new Map() };
      runs.set(runId, rec);
    }
    return rec;
  }

  function frameAt(rec: RunRecord, seq: number): SealedFrame | undefined {
    const first = rec.frames[0];
    return first ? rec.frames[seq - first.seq] : undefined;
  }

  function assertKept(rec: RunRecord | undefined, runId: RunId, fromSeq: number): void {
    const first = rec?.frames[0];
    if (first && fromSeq < first.seq - 1) {
      throw new RuncastError('history_expired', `run ${runId}: frames after seq ${fromSeq} are no longer kept (oldest is ${first.seq})`);
    }
  }

  function deliver(listener: Listener, frame: SealedFrame): void {
    if (listener.closed || frame.seq <= listener.last) return;
    listener.last = frame.seq;
    try {
      listener.onFrame(frame);
    } catch (err) {
      onError(err);
    }
  }

  function drain(runId: RunId, rec: RunRecord): void {
    if (rec.delivering) return; // the outer drain picks the new frame up
    rec.delivering = true;
    try {
      while (rec.deliveredSeq < rec.lastSeq) {
        const frame = frameAt(rec, ++rec.deliveredSeq);
        const set = listeners.get(runId);
        if (!frame || !set) continue;
        for (const listener of [...set]) deliver(listener, frame);
      }
    } finally {
      rec.delivering = false;
    }
  }

  function dispatch(job: RunJob): void {
    const handler = consumers[nextConsumer++ % consumers.length]!;
    // A microtask, so enqueue() returns before the run starts and handlers run concurrently.
    void Promise.resolve()
      .then(() => handler(structuredClone(job)))
      .catch(onError);
  }

  const bus: Bus = {
    async append(frame) {
      assertOpen();
      const rec = record(frame.runId);
      // Re-appending the stored frame is a no-op, so a publisher may retry safely.
      if (frame.seq <= rec.lastSeq && frameAt(rec, frame.seq)?.text === frame.text) return;
      if (frame.seq !== rec.lastSeq + 1) {
        throw new RuncastError('internal', `run ${frame.runId}: append out of order: expected seq ${rec.lastSeq + 1}, got ${frame.seq}`);
      }
      rec.frames.push(frame);
      rec.lastSeq = frame.seq;
      if (rec.frames.length > maxHistoryFrames) rec.frames.splice(0, rec.frames.length - maxHistoryFrames);
      if (rec.meta) rec.meta.lastSeq = frame.seq;
      drain(frame.runId, rec);
    },

    async history(runId, fromSeq) {
      const rec = runs.get(runId);
      assertKept(rec, runId, fromSeq);
      return rec ? rec.frames.filter((f) => f.seq > fromSeq) : [];
    },

    async subscribe(runId, fromSeq, onFrame): Promise<Subscription> {
      assertOpen();
      const rec = runs.get(runId);
      assertKept(rec, runId, fromSeq);
      const lastSeq = rec?.lastSeq ?? 0;
      const listener: Listener = { last: fromSeq, closed: false, onFrame };
      // Replay and registration in one tick; rec.lastSeq is re-read on each step because
      // a callback may append while we replay.
      if (rec) for (let seq = fromSeq + 1; seq <= rec.lastSeq; seq++) {
        const frame = frameAt(rec, seq);
        if (frame) deliver(listener, frame);
      }
      let set = listeners.get(runId);
      if (!set) listeners.set(runId, (set = new Set()));
      set.add(listener);
      return {
        lastSeq,
        close() {
          listener.closed = true;
          const current = listeners.get(runId);
          current?.delete(listener);
          if (current && current.size === 0) listeners.delete(runId);
        },
      };
    },

    async expire(runId, ttlMs) {
      const rec = runs.get(runId);
      if (!rec) return;
      if (rec.expiry) clearTimeout(rec.expiry);
      rec.expiry = setTimeout(() => {
        // Frames and values go; the meta stays as long again as a tombstone.
        rec.frames = [];
        rec.values.clear();
        rec.expiry = setTimeout(() => {
          if (runs.get(runId) === rec) runs.delete(runId);
        }, ttlMs);
        rec.expiry.unref();
      }, ttlMs);
      rec.expiry.unref();
    },

    async createRun(meta) {
      assertOpen();
      record(meta.runId).meta = { ...meta };
    },

    async getRun(runId) {
      const meta = runs.get(runId)?.meta;
      return meta ? { ...meta } : undefined;
    },

    async updateRun(runId, patch) {
      const rec = runs.get(runId);
      if (!rec?.meta) throw new RuncastError('not_found', `run ${runId} does not exist`);
      rec.meta = { ...rec.meta, ...patch, runId };
    },

    async putValue(runId, ref, json) {
      assertOpen();
      record(runId).values.set(ref, json);
    },

    async getValue(runId, ref) {
      return runs.get(runId)?.values.get(ref);
    },

    async sendControl(cmd) {
      assertOpen();
      for (const handler of [...controlHandlers]) {
        try {
          handler(cmd);
        } catch (err) {
          onError(err);
        }
      }
    },

    async onControl(handler) {
      const own = (cmd: ControlCommand) => handler(cmd); // one registration per call
      controlHandlers.add(own);
      return () => controlHandlers.delete(own);
    },

    async presence(runId, delta) {
      const total = Math.max(0, (presenceCounts.get(runId) ?? 0) + delta);
      if (total === 0) presenceCounts.delete(runId);
      else presenceCounts.set(runId, total);
      for (const handler of [...presenceHandlers]) {
        try {
          handler(runId, total);
        } catch (err) {
          onError(err);
        }
      }
      return total;
    },

    async onPresence(handler) {
      const own = (runId: RunId, viewers: number) => handler(runId, viewers);
      presenceHandlers.add(own);
      return () => presenceHandlers.delete(own);
    },

    async enqueue(job) {
      assertOpen();
      if (consumers.length > 0) dispatch(job);
      else waitingJobs.push(structuredClone(job));
    },

    async consume(handler) {
      assertOpen();
      // One process: a lease can never be lost.
      const own: JobHandler = (job) => handler(job, NEVER_LOST);
      consumers.push(own);
      while (waitingJobs.length > 0) dispatch(waitingJobs.shift()!);
      return async () => {
        const i = consumers.indexOf(own);
        if (i >= 0) consumers.splice(i, 1);
      };
    },

    async healthy() {
      return !closed;
    },

    async close() {
      closed = true;
      for (const rec of runs.values()) if (rec.expiry) clearTimeout(rec.expiry);
      for (const set of listeners.values()) for (const l of set) l.closed = true;
      listeners.clear();
      controlHandlers.clear();
      presenceHandlers.clear();
      consumers.length = 0;
    },
  };
  return bus;
}
