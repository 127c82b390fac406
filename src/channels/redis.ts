/**
 * The Redis bus (`BUS=redis`): several gateway instances share runs, history, control,
 * presence and run dispatch through one Redis (≥ 7.0). Same contract as the memory bus
 * (tests/contract/bus.contract.ts).
 *
 * Keys (P = keyPrefix):
 *   P run:<runId>:events    stream; entry id `<seq>-0`, fields k (kind) and t (text)
 *   P run:<runId>:meta      hash of RunMeta, each field JSON-encoded
 *   P run:<runId>:values    hash ref -> JSON
 *   P run:<runId>:presence  hash instanceId -> viewers on that instance
 *   P queue                 stream of jobs, consumer group `executors`
 *   P instance:<id>:wake    stream used to wake this instance's blocked XREAD
 *   channels P control, P presence
 *
 * Connections per instance: at most four, whatever the number of viewers and runs —
 * commands; pub/sub (control and presence, opened on first onControl/onPresence);
 * one blocking XREAD loop over every stream with local subscribers (opened on first
 * subscribe); one blocking XREADGROUP loop for the queue (opened on first consume).
 *
 * Live delivery: the XREAD loop keeps one cursor per watched run and hands each frame
 * to that run's local subscribers. A subscriber is registered (buffering) before its
 * history is read, then replays the history, then its buffer; each subscriber drops
 * frames it already has and fills any gap with XRANGE, so a subscriber sees every seq
 * once, in order. Adding a run to the loop wakes the blocked XREAD by XADDing to the
 * instance's wake stream, which the loop always reads too (no lost wake-ups).
 *
 * Run dispatch: XREADGROUP hands each job to one consumer of the group across all
 * instances. While a handler runs, the job's pending-entry idle time is reset every
 * leaseMs/3 (this is the lease); `reapLostRuns` XAUTOCLAIMs entries idle for longer
 * than leaseMs, i.e. runs whose instance died — but not in the first lease (plus a
 * reconnection delay) after Redis restarted or this instance reconnected, when live
 * executors have not renewed yet.
 */
import Redis from 'ioredis';
import { RuncastError } from '../protocol/errors';
import { TERMINAL_KINDS, type RunEventKind, type RunId } from '../protocol/events';
import type { Bus, ControlCommand, RunJob, RunMeta, SealedFrame, Subscription } from './types';

export interface RedisBusOptions {
  /** `redis://host:port/db`. */
  url: string;
  /** Prefix of every key and channel. Default `runcast:`. */
  keyPrefix?: string;
  /** Unique per process: names its presence share, queue consumer and connections. */
  instanceId: string;
  /**
   * How long a run's history is kept after its terminal frame (HISTORY_TTL_MS). When set,
   * appending a terminal frame expires the run's keys in the same atomic step, so a
   * publisher that dies before its `expire()` leaves nothing behind. Default: unset
   * (only `expire()` sets the retention).
   */
  historyTtlMs?: number;
  /**
   * Safety net against runs that never end (their executor died before reaping): a run's
   * keys are dropped at the latest this long after they were first written, unless
   * `expire` or a terminal frame set a TTL. Default 24 h.
   */
  orphanTtlMs?: number;
  /** A running job whose lease was not renewed for this long counts as lost. Default 30 000 ms. */
  leaseMs?: number;
  /** Frames kept per run (XADD MAXLEN); older ones answer `history_expired`. Default: unlimited. */
  maxHistoryFrames?: number;
  /** Longest a blocking read waits before it is re-issued. Default 5 000 ms. */
  blockMs?: number;
  /** `healthy()` answers false when PING takes longer. Default 1 000 ms. */
  healthTimeoutMs?: number;
  /** Jobs this instance runs at once; it takes no more from the queue meanwhile. Default 256. */
  maxConcurrentJobs?: number;
  /** Told about connection errors and exceptions thrown by callbacks. Default: ignored. */
  onError?: (err: unknown) => void;
}

const GROUP = 'executors';
const PAGE = 1000;
/** Longest wait between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2_000;

const APPEND_LUA = `
local seq = tonumber(ARGV[1])
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = 0
if #top > 0 then last = tonumber(string.match(top[1][1], '^(%d+)')) end
if seq ~= last + 1 then
  if seq <= last then
    local same = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', ARGV[1] .. '-0')
    if #same > 0 then
      local f = same[1][2]
      for i = 1, #f, 2 do
        if f[i] == 't' and f[i + 1] == ARGV[3] then return 0 end
      end
    end
  end
  return -1 - last
end
if tonumber(ARGV[4]) > 0 then
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[4], ARGV[1] .. '-0', 'k', ARGV[2], 't', ARGV[3])
else
  redis.call('XADD', KEYS[1], ARGV[1] .. '-0', 'k', ARGV[2], 't', ARGV[3])
end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'lastSeq', ARGV[1]) end
if tonumber(ARGV[6]) > 0 then
  -- frames and values go after the TTL; the meta stays as long again (a tombstone: late subscribers learn history_expired)
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[6]) * 2)
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[5], 'NX')
end
return seq
`;

const UPDATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

const PRESENCE_LUA = `
local c = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if c <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local n = tonumber(v)
  if n > 0 then total = total + n end
end
if total > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
redis.call('PUBLISH', ARGV[4], cjson.encode({runId = ARGV[5], viewers = total}))
return total
`;

/** Renew the lease of the given pending entries, only those this consumer still owns. */
const HEARTBEAT_LUA = `
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p > 0 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`;

type Scripted = Redis & {
  rcAppend(
    events: string, meta: string, values: string,
    seq: number, kind: string, text: string, maxLen: number, orphanTtlMs: number, endTtlMs: number,
  ): Promise<number>;
  rcUpdate(meta: string, ...fieldsAndValues: string[]): Promise<number>;
  rcPresence(key: string, instanceId: string, delta: number, ttlMs: number, channel: string, runId: string): Promise<number>;
  /** Renews the leases; returns the ids whose lease this consumer no longer holds. */
  rcHeartbeat(queue: string, group: string, consumer: string, ...ids: string[]): Promise<string[]>;
};

type StreamEntry = [id: string, fields: string[]];
type JobHandler = (job: RunJob, leaseLost: AbortSignal) => Promise<void>;

interface LiveSubscriber {
  last: number;
  /** 'history' and 'filling' buffer live frames; 'live' delivers them. */
  phase: 'history' | 'filling' | 'live';
  buffer: SealedFrame[];
  closed: boolean;
  onFrame(frame: SealedFrame): void;
}

/** A run this instance has local subscribers for. */
interface Watch {
  runId: RunId;
  key: string;
  /** Last seq the XREAD loop has read; meaningful once armed. */
  cursor: number;
  /** Armed once a first history read fixed the cursor; only armed runs are XREAD. */
  armed: boolean;
  subs: Set<LiveSubscriber>;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function seqOf(id: string): number {
  return Number.parseInt(id, 10);
}

function toFrame(runId: RunId, [id, fields]: StreamEntry): SealedFrame {
  let kind = '';
  let text = '';
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'k') kind = fields[i + 1]!;
    else if (fields[i] === 't') text = fields[i + 1]!;
  }
  return { runId, seq: seqOf(id), kind: kind as RunEventKind, text };
}

/**
 * Create a Redis bus. Connects at once (the command connection); other connections
 * open when first needed. Recovers by itself when Redis comes back.
 * @throws RuncastError `internal` when instanceId is empty.
 */
export function createRedisBus(options: RedisBusOptions): Bus {
  const {
    url,
    keyPrefix: prefix = 'runcast:',
    instanceId,
    historyTtlMs = 0,
    orphanTtlMs = 24 * 60 * 60 * 1000,
    leaseMs = 30_000,
    maxHistoryFrames = 0,
    blockMs = 5_000,
    healthTimeoutMs = 1_000,
    maxConcurrentJobs = 256,
  } = options;
  const onError = options.onError ?? (() => undefined);
  if (!instanceId) throw new RuncastError('internal', 'createRedisBus: instanceId is required');

  const keys = {
    events: (runId: RunId) => `${prefix}run:${runId}:events`,
    meta: (runId: RunId) => `${prefix}run:${runId}:meta`,
    values: (runId: RunId) => `${prefix}run:${runId}:values`,
    presence: (runId: RunId) => `${prefix}run:${runId}:presence`,
    queue: `${prefix}queue`,
    /** Runs executed outside the queue (standard mode), by lease deadline. */
    held: `${prefix}held`,
    wake: `${prefix}instance:${instanceId}:wake`,
    controlChannel: `${prefix}control`,
    presenceChannel: `${prefix}presence`,
  };

  let closed = false;
  let closing: Promise<void> | undefined;
  const pauses = new Set<{ timer: NodeJS.Timeout; resolve(): void }>();

  function connect(role: string, blocking: boolean): Redis {
    const conn = new Redis(url, {
      connectionName: `runcast:${instanceId}:${role}`,
      retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
      // Blocking loops wait through an outage; commands give up after ~20 reconnects.
      maxRetriesPerRequest: blocking ? null : 20,
    });
    // Report the first error of an outage, not every failed reconnect.
    let reported = false;
    conn.on('error', (err) => {
      if (!reported && !closed) onError(err);
      reported = true;
    });
    conn.on('ready', () => (reported = false));
    return conn;
  }

  function defineScripts(conn: Redis): Scripted {
    conn.defineCommand('rcAppend', { numberOfKeys: 3, lua: APPEND_LUA });
    conn.defineCommand('rcUpdate', { numberOfKeys: 1, lua: UPDATE_LUA });
    conn.defineCommand('rcPresence', { numberOfKeys: 1, lua: PRESENCE_LUA });
    conn.defineCommand('rcHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT_LUA });
    return conn as Scripted;
  }

  const cmd = defineScripts(connect('cmd', false));
  /**
   * Leases cannot be renewed while Redis or the link to it is down, so right after an
   * outage every running job looks idle. Reaping waits until the Redis server has been
   * up, and this connection back (after a reconnection), for a lease plus a reconnection
   * delay: every live executor has renewed by then. Undefined while unknown or down.
   */
  const settleMs = leaseMs + MAX_RECONNECT_DELAY_MS;
  let linkSettledAt: number | undefined;
  let serverSettledAt: number | undefined;
  let connectedBefore = false;
  cmd.on('ready', () => {
    linkSettledAt = connectedBefore ? Date.now() + settleMs : Date.now();
    connectedBefore = true;
    cmd.info('server').then((info) => {
      const uptime = /uptime_in_seconds:(\d+)/.exec(info);
      if (uptime) serverSettledAt = Date.now() - Number(uptime[1]) * 1000 + settleMs;
    }, onError);
  });
  cmd.on('close', () => {
    linkSettledAt = undefined;
    serverSettledAt = undefined;
  });
  let subConn: Redis | undefined;
  let eventConn: Redis | undefined;
  let queueConn: Redis | undefined;

  function assertOpen(): void {
    if (closed) throw new RuncastError('unavailable', 'bus is closed');
  }

  /** Wait ms (an error back-off), cut short by close(). */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          pauses.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      pauses.add(entry);
    });
  }

  function safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      onError(err);
    }
  }

  async function readRange(runId: RunId, afterSeq: number, uptoSeq?: number): Promise<SealedFrame[]> {
    const out: SealedFrame[] = [];
    let after = afterSeq;
    for (;;) {
      const end = uptoSeq === undefined ? '+' : `${uptoSeq}-0`;
      const page = (await cmd.xrange(keys.events(runId), `${after + 1}-0`, end, 'COUNT', PAGE)) as StreamEntry[];
      for (const entry of page) out.push(toFrame(runId, entry));
      if (page.length < PAGE) return out;
      after = out[out.length - 1]!.seq;
    }
  }

  function expiredError(runId: RunId, fromSeq: number, firstSeq: number): RuncastError {
    return new RuncastError('history_expired', `run ${runId}: frames after seq ${fromSeq} are no longer kept (oldest is ${firstSeq})`);
  }

  // ---------------------------------------------------------------- live delivery

  const watches = new Map<RunId, Watch>();
  let eventLoop: Promise<void> | undefined;
  let eventLoopIdle: Deferred | undefined;
  /** Keys of the XREAD in flight: adding one of them needs no wake-up. */
  let readingKeys = new Set<string>();

  function deliver(sub: LiveSubscriber, frame: SealedFrame): void {
    sub.last = frame.seq;
    safely(() => sub.onFrame(frame));
  }

  function offer(watch: Watch, sub: LiveSubscriber, frame: SealedFrame): void {
    if (sub.closed) return;
    if (sub.phase !== 'live') {
      sub.buffer.push(frame);
      return;
    }
    if (frame.seq <= sub.last) return;
    if (frame.seq === sub.last + 1) {
      deliver(sub, frame);
      return;
    }
    sub.phase = 'filling';
    sub.buffer.push(frame);
    void fill(watch, sub);
  }

  /** Close a gap in one subscriber's sequence from the stream, then replay its buffer. */
  async function fill(watch: Watch, sub: LiveSubscriber): Promise<void> {
    while (!sub.closed && !closed) {
      try {
        const frames = await readRange(watch.runId, sub.last);
        const first = frames[0];
        if (first && first.seq > sub.last + 1) {
          // Trimmed away while we were not reading: nothing can bring them back.
          onError(expiredError(watch.runId, sub.last, first.seq));
          sub.last = first.seq - 1;
        }
        for (const frame of frames) if (!sub.closed && frame.seq === sub.last + 1) deliver(sub, frame);
        break;
      } catch (err) {
        onError(err);
        await pause(500);
      }
    }
    goLive(watch, sub);
  }

  function goLive(watch: Watch, sub: LiveSubscriber): void {
    sub.phase = 'live';
    const buffered = sub.buffer;
    sub.buffer = [];
    for (const frame of buffered) offer(watch, sub, frame);
  }

  function dropWatchIfUnused(watch: Watch): void {
    if (watch.subs.size === 0 && watches.get(watch.runId) === watch) watches.delete(watch.runId);
  }

  function arm(watch: Watch, cursor: number): void {
    if (watch.armed || watches.get(watch.runId) !== watch) return;
    watch.cursor = cursor;
    watch.armed = true;
    if (!eventLoop) eventLoop = runEventLoop();
    if (eventLoopIdle) eventLoopIdle.resolve();
    else if (!readingKeys.has(watch.key)) {
      cmd
        .multi()
        .xadd(keys.wake, 'MAXLEN', '1', '*', 'w', '1')
        .pexpire(keys.wake, 60_000)
        .exec()
        .catch(onError);
    }
  }

  async function runEventLoop(): Promise<void> {
    eventConn = connect('events', true);
    let wakeCursor = '0-0';
    while (!closed) {
      const armed = [...watches.values()].filter((w) => w.armed);
      if (armed.length === 0) {
        eventLoopIdle = deferred();
        await eventLoopIdle.promise;
        eventLoopIdle = undefined;
        continue;
      }
      const byKey = new Map(armed.map((w) => [w.key, w]));
      readingKeys = new Set(byKey.keys());
      try {
        const result = (await eventConn.call(
          'XREAD', 'COUNT', PAGE, 'BLOCK', blockMs, 'STREAMS',
          keys.wake, ...armed.map((w) => w.key),
          wakeCursor, ...armed.map((w) => `${w.cursor}-0`),
        )) as [string, StreamEntry[]][] | null;
        readingKeys = new Set();
        for (const [key, entries] of result ?? []) {
          if (key === keys.wake) {
            wakeCursor = entries[entries.length - 1]?.[0] ?? wakeCursor;
            continue;
          }
          const watch = byKey.get(key);
          if (!watch || watches.get(watch.runId) !== watch) continue;
          for (const entry of entries) {
            const frame = toFrame(watch.runId, entry);
            if (frame.seq <= watch.cursor) continue;
            watch.cursor = frame.seq;
            for (const sub of [...watch.subs]) offer(watch, sub, frame);
          }
        }
      } catch (err) {
        readingKeys = new Set();
        if (closed) break;
        onError(err);
        await pause(200);
      }
    }
  }

  // ---------------------------------------------------------------- pub/sub

  const controlHandlers = new Set<(cmd: ControlCommand) => void>();
  const presenceHandlers = new Set<(runId: RunId, viewers: number) => void>();
  const localPresence = new Map<RunId, number>();
  let subscribed: Promise<void> | undefined;

  function ensureSubscribed(): Promise<void> {
    if (!subscribed) {
      const conn = (subConn ??= connect('sub', false));
      conn.on('message', (channel: string, message: string) => {
        try {
          if (channel === keys.controlChannel) {
            const command = JSON.parse(message) as ControlCommand;
            for (const h of [...controlHandlers]) safely(() => h(command));
          } else if (channel === keys.presenceChannel) {
            const { runId, viewers } = JSON.parse(message) as { runId: RunId; viewers: number };
            for (const h of [...presenceHandlers]) safely(() => h(runId, viewers));
          }
        } catch (err) {
          onError(err);
        }
      });
      subscribed = conn.subscribe(keys.controlChannel, keys.presenceChannel).then(
        () => undefined,
        (err: unknown) => {
          subscribed = undefined;
          conn.removeAllListeners('message');
          throw err;
        },
      );
    }
    return subscribed;
  }

  // ---------------------------------------------------------------- queue

  const consumers: JobHandler[] = [];
  let nextConsumer = 0;
  const inflight = new Map<string, RunJob>();
  /** Aborted when this instance lost the lease of a job it is running. */
  const leases = new Map<string, AbortController>();
  const unacked = new Set<string>();
  let queueLoopActive = false;
  let queueLoop: Promise<void> | undefined;
  let slotFreed: Deferred | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let recheckPending = false;
  let groupReady: Promise<void> | undefined;

  function ensureGroup(): Promise<void> {
    groupReady ??= cmd.xgroup('CREATE', keys.queue, GROUP, '0', 'MKSTREAM').then(
      () => undefined,
      (err: Error) => {
        if (/BUSYGROUP/.test(err.message)) return;
        groupReady = undefined;
        throw err;
      },
    );
    return groupReady;
  }

  /** Held (standard-mode) runs of this instance, as their `held` members. */
  const held = new Set<string>();
  let heldHeartbeat: NodeJS.Timeout | undefined;
  function startHeldHeartbeat(): void {
    if (heldHeartbeat || closed) return;
    heldHeartbeat = setInterval(() => {
      if (held.size === 0) return;
      const deadline = Date.now() + leaseMs;
      cmd.zadd(keys.held, 'XX', ...[...held].flatMap((m) => [deadline, m])).catch(onError);
    }, Math.max(10, Math.floor(leaseMs / 3)));
    heldHeartbeat.unref();
  }

  function startHeartbeat(): void {
    if (heartbeat || closed) return;
    heartbeat = setInterval(() => {
      const ids = [...inflight.keys()];
      if (ids.length === 0) return;
      cmd.rcHeartbeat(keys.queue, GROUP, instanceId, ...ids).then((lost) => {
        if (lost.length === 0) return;
        onError(new RuncastError('internal', `lost the lease of ${lost.length} job(s): stopping them`));
        // Another instance has ended (or will end) these runs with worker_lost: stop ours.
        for (const id of lost) leases.get(id)?.abort(new RuncastError('internal', 'lease lost'));
      }, onError);
    }, Math.max(10, Math.floor(leaseMs / 3)));
    heartbeat.unref();
  }

  function finish(id: string): void {
    inflight.delete(id);
    leases.delete(id);
    if (inflight.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
    slotFreed?.resolve();
    // Until the XACK lands the entry is still pending: a re-read of our pending entries
    // must not hand it out again.
    unacked.add(id);
    void acknowledge(id);
  }

  async function acknowledge(id: string): Promise<void> {
    // If we close first it stays pending and another instance reaps it; its handler
    // then finds the run already ended.
    while (!closed) {
      try {
        await cmd.multi().xack(keys.queue, GROUP, id).xdel(keys.queue, id).exec();
        unacked.delete(id);
        return;
      } catch (err) {
        onError(err);
        await pause(500);
      }
    }
  }

  function parseJob(fields: string[]): RunJob | undefined {
    const i = fields.indexOf('j');
    try {
      return i >= 0 ? (JSON.parse(fields[i + 1]!) as RunJob) : undefined;
    } catch {
      return undefined;
    }
  }

  function handOver([id, fields]: StreamEntry): void {
    if (inflight.has(id) || unacked.has(id)) return;
    const job = parseJob(fields);
    if (!job) {
      onError(new RuncastError('internal', `queue entry ${id} is not a job; dropped`));
      finish(id);
      return;
    }
    if (consumers.length === 0) {
      // Read after the last local consumer stopped: give it back to the queue.
      cmd.multi().xadd(keys.queue, '*', ...fields).xack(keys.queue, GROUP, id).xdel(keys.queue, id).exec().catch(onError);
      return;
    }
    const handler = consumers[nextConsumer++ % consumers.length]!;
    inflight.set(id, job);
    const lease = new AbortController();
    leases.set(id, lease);
    startHeartbeat();
    void Promise.resolve()
      .then(() => handler(job, lease.signal))
      .catch(onError)
      .finally(() => finish(id));
  }

  async function runQueueLoop(): Promise<void> {
    if (!queueConn) {
      queueConn = connect('queue', true);
      queueConn.on('reconnecting', () => (recheckPending = true));
    }
    const conn = queueConn;
    for (;;) {
      if (closed || consumers.length === 0) {
        queueLoopActive = false;
        return;
      }
      if (inflight.size >= maxConcurrentJobs) {
        slotFreed = deferred();
        await slotFreed.promise;
        slotFreed = undefined;
        continue;
      }
      try {
        await ensureGroup();
        // After a reconnect a read may have been answered into the void: our pending
        // entries that no local handler has are handed over now.
        const from = recheckPending ? '0' : '>';
        recheckPending = false;
        const result = (await conn.call(
          'XREADGROUP', 'GROUP', GROUP, instanceId, 'COUNT', from === '0' ? PAGE : 1,
          'BLOCK', blockMs, 'STREAMS', keys.queue, from,
        )) as [string, StreamEntry[]][] | null;
        for (const [, entries] of result ?? []) for (const entry of entries) handOver(entry);
      } catch (err) {
        if (closed) continue;
        if (err instanceof Error && /NOGROUP/.test(err.message)) groupReady = undefined;
        else onError(err);
        recheckPending = true;
        await pause(200);
      }
    }
  }

  // ---------------------------------------------------------------- the bus

  const bus: Bus = {
    async append(frame) {
      assertOpen();
      const endTtlMs = historyTtlMs > 0 && TERMINAL_KINDS.has(frame.kind) ? historyTtlMs : 0;
      const r = await cmd.rcAppend(
        keys.events(frame.runId), keys.meta(frame.runId), keys.values(frame.runId),
        frame.seq, frame.kind, frame.text, maxHistoryFrames, orphanTtlMs, endTtlMs,
      );
      if (r < 0) {
        throw new RuncastError('internal', `run ${frame.runId}: append out of order: expected seq ${-r}, got ${frame.seq}`);
      }
    },

    async history(runId, fromSeq) {
      const frames = await readRange(runId, fromSeq);
      const first = frames[0];
      if (first && first.seq > fromSeq + 1) throw expiredError(runId, fromSeq, first.seq);
      return frames;
    },

    async subscribe(runId, fromSeq, onFrame): Promise<Subscription> {
      assertOpen();
      let watch = watches.get(runId);
      if (!watch) {
        watch = { runId, key: keys.events(runId), cursor: 0, armed: false, subs: new Set() };
        watches.set(runId, watch);
      }
      const w = watch;
      const sub: LiveSubscriber = { last: fromSeq, phase: 'history', buffer: [], closed: false, onFrame };
      // Registered before the history is read: every frame the loop reads from now on
      // is buffered, and the history covers everything before.
      w.subs.add(sub);
      const close = () => {
        sub.closed = true;
        sub.buffer = [];
        w.subs.delete(sub);
        dropWatchIfUnused(w);
      };
      let lastSeq: number;
      try {
        const replies = await cmd
          .multi()
          .xrange(w.key, `${fromSeq + 1}-0`, '+', 'COUNT', PAGE)
          .xrevrange(w.key, '+', '-', 'COUNT', 1)
          .exec();
        const [[e1, page], [e2, top]] = replies as [[Error | null, StreamEntry[]], [Error | null, StreamEntry[]]];
        if (e1 || e2) throw e1 ?? e2;
        lastSeq = top[0] ? seqOf(top[0][0]) : 0;
        arm(w, lastSeq);
        const frames = page.map((entry) => toFrame(runId, entry));
        const first = frames[0];
        if (first && first.seq > fromSeq + 1) throw expiredError(runId, fromSeq, first.seq);
        if (page.length === PAGE && lastSeq > frames[frames.length - 1]!.seq) {
          frames.push(...(await readRange(runId, frames[frames.length - 1]!.seq, lastSeq)));
        }
        for (const frame of frames) if (!sub.closed && frame.seq === sub.last + 1) deliver(sub, frame);
      } catch (err) {
        close();
        throw err;
      }
      goLive(w, sub);
      return { lastSeq, close };
    },

    async expire(runId, ttlMs) {
      const ms = Math.max(1, Math.floor(ttlMs));
      await cmd.multi().pexpire(keys.events(runId), ms).pexpire(keys.meta(runId), ms * 2).pexpire(keys.values(runId), ms).exec();
    },

    async createRun(meta) {
      assertOpen();
      const fields = Object.entries(meta).flatMap(([k, v]) => [k, JSON.stringify(v)]);
      await cmd.multi().del(keys.meta(meta.runId)).hset(keys.meta(meta.runId), ...fields).pexpire(keys.meta(meta.runId), orphanTtlMs).exec();
    },

    async getRun(runId) {
      const hash = await cmd.hgetall(keys.meta(runId));
      if (Object.keys(hash).length === 0) return undefined;
      const meta: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(hash)) meta[k] = JSON.parse(v);
      return meta as unknown as RunMeta;
    },

    async updateRun(runId, patch) {
      const fields = Object.entries(patch)
        .filter(([k, v]) => k !== 'runId' && v !== undefined)
        .flatMap(([k, v]) => [k, JSON.stringify(v)]);
      const exists = fields.length > 0 ? await cmd.rcUpdate(keys.meta(runId), ...fields) : await cmd.exists(keys.meta(runId));
      if (!exists) throw new RuncastError('not_found', `run ${runId} does not exist`);
    },

    async putValue(runId, ref, json) {
      assertOpen();
      await cmd.multi().hset(keys.values(runId), ref, json).pexpire(keys.values(runId), orphanTtlMs, 'NX').exec();
    },

    async getValue(runId, ref) {
      return (await cmd.hget(keys.values(runId), ref)) ?? undefined;
    },

    async sendControl(command) {
      assertOpen();
      await cmd.publish(keys.controlChannel, JSON.stringify(command));
    },

    async onControl(handler) {
      assertOpen();
      const own = (command: ControlCommand) => handler(command);
      controlHandlers.add(own);
      try {
        await ensureSubscribed();
      } catch (err) {
        controlHandlers.delete(own);
        throw err;
      }
      return () => controlHandlers.delete(own);
    },

    async presence(runId, delta) {
      assertOpen();
      const total = await cmd.rcPresence(keys.presence(runId), instanceId, delta, orphanTtlMs, keys.presenceChannel, runId);
      const mine = Math.max(0, (localPresence.get(runId) ?? 0) + delta);
      if (mine === 0) localPresence.delete(runId);
      else localPresence.set(runId, mine);
      return total;
    },

    async onPresence(handler) {
      assertOpen();
      const own = (runId: RunId, viewers: number) => handler(runId, viewers);
      presenceHandlers.add(own);
      try {
        await ensureSubscribed();
      } catch (err) {
        presenceHandlers.delete(own);
        throw err;
      }
      return () => presenceHandlers.delete(own);
    },

    async enqueue(job) {
      assertOpen();
      await cmd.xadd(keys.queue, '*', 'j', JSON.stringify(job));
    },

    async consume(handler) {
      assertOpen();
      const own: JobHandler = (job, leaseLost) => handler(job, leaseLost);
      consumers.push(own);
      if (!queueLoopActive) {
        queueLoopActive = true;
        queueLoop = runQueueLoop();
      }
      return async () => {
        const i = consumers.indexOf(own);
        if (i >= 0) consumers.splice(i, 1);
      };
    },

    async holdRun(runId) {
      assertOpen();
      const member = JSON.stringify([instanceId, runId]);
      held.add(member);
      await cmd.zadd(keys.held, Date.now() + leaseMs, member);
      startHeldHeartbeat();
      return async () => {
        held.delete(member);
        if (held.size === 0 && heldHeartbeat) {
          clearInterval(heldHeartbeat);
          heldHeartbeat = undefined;
        }
        await cmd.zrem(keys.held, member).catch(onError);
      };
    },

    async reapLostHeldRuns(handler) {
      assertOpen();
      const now = Date.now();
      if (linkSettledAt === undefined || serverSettledAt === undefined || now < linkSettledAt || now < serverSettledAt) return 0;
      let handled = 0;
      for (const member of await cmd.zrangebyscore(keys.held, '-inf', now, 'LIMIT', 0, 100)) {
        if (held.has(member)) continue; // ours, and alive
        // Whoever removes the entry handles it: exactly one instance does.
        if ((await cmd.zrem(keys.held, member)) !== 1) continue;
        let runId: RunId;
        try {
          runId = (JSON.parse(member) as [string, RunId])[1];
        } catch {
          continue;
        }
        try {
          await handler(runId);
          handled++;
        } catch (err) {
          onError(err);
          await cmd.zadd(keys.held, now, member).catch(onError); // offered again later
        }
      }
      return handled;
    },

    async reapLostRuns(handler) {
      assertOpen();
      const now = Date.now();
      if (linkSettledAt === undefined || serverSettledAt === undefined || now < linkSettledAt || now < serverSettledAt) return 0;
      await ensureGroup();
      let handled = 0;
      let cursor = '0-0';
      do {
        let reply: [string, (StreamEntry | null)[]];
        try {
          reply = (await cmd.call('XAUTOCLAIM', keys.queue, GROUP, instanceId, leaseMs, cursor, 'COUNT', 100)) as typeof reply;
        } catch (err) {
          // Redis restarted empty: no group, so nothing pending to reap; create it again next time.
          if (err instanceof Error && /NOGROUP/.test(err.message)) {
            groupReady = undefined;
            return handled;
          }
          throw err;
        }
        cursor = reply[0];
        for (const entry of reply[1]) {
          if (!entry || inflight.has(entry[0]) || unacked.has(entry[0])) continue; // deleted, or ours
          const [id, fields] = entry;
          const job = parseJob(fields);
          if (!job) {
            finish(id);
            continue;
          }
          inflight.set(id, job);
          startHeartbeat();
          try {
            await handler(job);
            handled++;
            finish(id);
          } catch (err) {
            onError(err);
            inflight.delete(id); // left pending: offered again after another leaseMs
          }
        }
      } while (cursor !== '0-0' && !closed);
      return handled;
    },

    async healthy() {
      if (closed) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), healthTimeoutMs)));
      const ping = cmd.ping().then(
        (reply) => reply === 'PONG',
        () => false,
      );
      try {
        return await Promise.race([ping, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    close() {
      closing ??= (async () => {
        closed = true;
        for (const p of pauses) {
          clearTimeout(p.timer);
          p.resolve();
        }
        pauses.clear();
        if (heartbeat) clearInterval(heartbeat);
        if (heldHeartbeat) clearInterval(heldHeartbeat);
        heartbeat = undefined;
        eventLoopIdle?.resolve();
        slotFreed?.resolve();
        for (const watch of watches.values()) for (const sub of watch.subs) sub.closed = true;
        watches.clear();
        controlHandlers.clear();
        presenceHandlers.clear();
        consumers.length = 0;
        // Blocking reads end at once (their pending command is rejected).
        eventConn?.disconnect();
        queueConn?.disconnect();
        // Best effort while Redis is reachable: withdraw our viewers, drop the wake stream.
        const tidy = Promise.all([
          ...[...localPresence].map(([runId, n]) =>
            cmd.rcPresence(keys.presence(runId), instanceId, -n, orphanTtlMs, keys.presenceChannel, runId),
          ),
          cmd.del(keys.wake),
        ]).then(() => cmd.quit());
        await withTimeout(tidy.catch(() => undefined), 1_000);
        localPresence.clear();
        cmd.disconnect();
        if (subConn) {
          await withTimeout(subConn.quit().catch(() => undefined), 500);
          subConn.disconnect();
        }
        await Promise.all([eventLoop, queueLoop]);
      })();
      return closing;
    },
  };
  return bus;
}

/** Resolve when p settles or after ms, whichever comes first (the timer never outlives it). */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
