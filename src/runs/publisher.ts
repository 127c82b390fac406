/**
 * The run publisher: the single egress choke point between the executor and the bus.
 * Every event is redacted, its large fields truncated (the whole redacted value kept
 * under a `ref`), stamped with the next `seq`, and serialised ONCE into the exact
 * wire text that the bus stores and every viewer receives. Nothing else creates
 * frames, so no code path can store or send an unredacted event.
 */
import { nanoid } from 'nanoid';
import type { EventFrame, RunEvent, RunId, TruncatedValue } from '../protocol/events';
import { isTerminal } from '../protocol/events';
import type { Redactor } from '../redaction/types';
import type { Bus, SealedFrame } from '../channels/types';

export interface PublisherOptions {
  runId: RunId;
  bus: Bus;
  /** The run's redactor (it may change during the run when credentials are added). */
  redactor: () => Redactor;
  /** MAX_FIELD_BYTES: larger values become a truncation marker. */
  maxFieldBytes: number;
  /** HISTORY_TTL_MS: history is dropped this long after the terminal event. */
  historyTtlMs: number;
  /** Called when an append failed for good (the bus is down). */
  onError(err: unknown): void;
  clock?: () => Date;
  /** The seq of the last event already stored (a run taken over from a lost worker). Default 0. */
  afterSeq?: number;
  /** MAX_RUN_EVENTS: `onLimit` is called once when the run reaches this many events. */
  maxEvents?: number;
  onLimit?(): void;
}

export interface RunPublisher {
  emit(event: RunEvent): void;
  /** Resolves when every emitted event is stored. */
  flushed(): Promise<void>;
  readonly lastSeq: number;
}

const PREVIEW_CHARS = 1024;
const APPEND_ATTEMPTS = 5;

/** The value fields of each event kind that may be truncated. */
function truncatable(event: RunEvent): { get(): unknown; set(v: unknown): void }[] {
  switch (event.kind) {
    case 'node.started':
      return [
        { get: () => event.input, set: (v) => (event.input = v) },
        { get: () => event.config, set: (v) => (event.config = v) },
      ];
    case 'node.completed':
      return [{ get: () => event.output, set: (v) => (event.output = v) }];
    case 'run.completed':
      return [{ get: () => event.response.body, set: (v) => (event.response.body = v) }];
    default:
      return [];
  }
}

export function createRunPublisher(opts: PublisherOptions): RunPublisher {
  const { runId, bus } = opts;
  const clock = opts.clock ?? (() => new Date());
  let seq = opts.afterSeq ?? 0;
  let chain: Promise<void> = Promise.resolve();
  let paused = false;

  const store = (task: () => Promise<void>) => {
    chain = chain.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await task();
        } catch (err) {
          if (attempt >= APPEND_ATTEMPTS) return opts.onError(err);
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
      }
    });
  };

  return {
    get lastSeq() {
      return seq;
    },
    emit(raw) {
      const event = opts.redactor().redact(raw);
      const values: [string, string][] = [];
      for (const field of truncatable(event)) {
        const value = field.get();
        if (value === undefined) continue;
        const json = JSON.stringify(value);
        const bytes = Buffer.byteLength(json);
        if (bytes <= opts.maxFieldBytes) continue;
        const ref = nanoid();
        values.push([ref, json]);
        const marker: TruncatedValue = { $truncated: true, bytes, preview: json.slice(0, PREVIEW_CHARS), ref };
        field.set(marker);
      }
      seq += 1;
      if (seq === opts.maxEvents) opts.onLimit?.();
      const frame: EventFrame = { type: 'event', runId, seq, time: clock().toISOString(), event };
      const sealed: SealedFrame = { runId, seq, kind: event.kind, text: JSON.stringify(frame) };
      const status =
        event.kind === 'node.paused' ? 'paused'
        : event.kind === 'run.completed' ? 'succeeded'
        : event.kind === 'run.failed' ? 'failed'
        : event.kind === 'run.cancelled' ? 'cancelled'
        : paused ? 'running' : undefined;
      paused = event.kind === 'node.paused';
      const endedAt = isTerminal(event) ? frame.time : undefined;
      const thisSeq = seq;
      store(async () => {
        for (const [ref, json] of values) await bus.putValue(runId, ref, json);
        await bus.append(sealed);
        if (status) await bus.updateRun(runId, { status, lastSeq: thisSeq, ...(endedAt ? { endedAt } : {}) });
        if (endedAt) await bus.expire(runId, opts.historyTtlMs);
      });
    },
    flushed: () => chain,
  };
}
