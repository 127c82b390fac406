/** A growable buffer of numbers (latency samples), cheap to append and to send over IPC. */
export class Samples {
  private data: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(16, capacity));
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  /** A copy of the samples taken so far. */
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Wall-clock milliseconds with sub-millisecond resolution (comparable across processes). */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface EventHeader {
  seq: number;
  /** Date.parse of the frame's `time`. */
  sentAt: number;
  kind: string;
}

const EVENT_PREFIX = '{"type":"event",';

/**
 * Read `seq`, `time` and the event kind from the start of an event frame without
 * parsing the frame: the publisher writes `{"type":"event","runId":…,"seq":N,"time":"…","event":{"kind":"…"`
 * in that order. Null for any other message.
 */
export function readEventHeader(head: string): EventHeader | null {
  if (!head.startsWith(EVENT_PREFIX)) return null;
  const s = head.indexOf('"seq":', EVENT_PREFIX.length);
  if (s < 0) return null;
  const comma = head.indexOf(',', s + 6);
  const t = head.indexOf('"time":"', comma);
  if (comma < 0 || t < 0) return null;
  const k = head.indexOf('"kind":"', t + 32);
  const kind = k < 0 ? '' : head.slice(k + 8, head.indexOf('"', k + 8));
  return { seq: Number(head.slice(s + 6, comma)), sentAt: Date.parse(head.slice(t + 8, t + 32)), kind };
}

/** How many characters of a frame `readEventHeader` needs. */
export const HEADER_CHARS = 256;
