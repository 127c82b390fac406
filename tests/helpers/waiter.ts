/**
 * Waiting without sleeps: deferreds, collectors that resolve when what they gathered
 * satisfies a predicate, and bounded polling. Every wait has a deadline that fails the
 * test with a readable message; the deadline is a guard, never the synchronisation.
 */

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
  readonly settled: boolean;
}

/** A promise with its resolve and reject exposed. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  let settled = false;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    promise,
    resolve(value) {
      settled = true;
      resolve(value);
    },
    reject(reason) {
      settled = true;
      reject(reason);
    },
    get settled() {
      return settled;
    },
  };
}

export interface Collector<T> {
  /** Add an item; resolves `done` once the predicate holds. */
  push(item: T): void;
  /** Everything pushed so far (also after `done` resolved). */
  readonly items: T[];
  /** Resolves with the items when the predicate first holds; rejects after timeoutMs. */
  readonly done: Promise<T[]>;
}

export interface WaitOptions {
  /** Failure guard, not a synchronisation delay. Default 10 000 ms. */
  timeoutMs?: number;
  /** Named in the timeout message. */
  label?: string;
}

/**
 * Collect items (e.g. frames handed to a callback) until `predicate(items)` holds.
 * `collectUntil(items => items.length === 3)`; pass `collector.push` as the callback.
 */
export function collectUntil<T>(predicate: (items: readonly T[]) => boolean, options: WaitOptions = {}): Collector<T> {
  const { timeoutMs = 10_000, label = 'collectUntil' } = options;
  const items: T[] = [];
  const d = deferred<T[]>();
  const timer = setTimeout(() => {
    if (!d.settled) d.reject(new Error(`${label}: predicate not met after ${timeoutMs} ms; got ${describe(items)}`));
  }, timeoutMs);
  timer.unref();
  // An empty collection may already satisfy the predicate.
  if (predicate(items)) {
    clearTimeout(timer);
    d.resolve(items);
  }
  return {
    items,
    done: d.promise,
    push(item: T) {
      items.push(item);
      if (!d.settled && predicate(items)) {
        clearTimeout(timer);
        d.resolve(items);
      }
    },
  };
}

/**
 * Poll `probe` until it returns something other than undefined/false, yielding to the
 * event loop (setImmediate) between attempts. For state with no event to wait on, such
 * as a key's expiry.
 */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, label = 'eventually' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${label}: condition not met after ${timeoutMs} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function describe(items: readonly unknown[]): string {
  const text = JSON.stringify(items.length > 20 ? [...items.slice(0, 10), '…', ...items.slice(-10)] : items);
  return `${items.length} item(s): ${text && text.length > 2000 ? text.slice(0, 2000) + '…' : text}`;
}
