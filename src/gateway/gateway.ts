/**
 * The WebSocket gateway's protocol logic (PROTOCOL.md sections 1–5, 7), independent
 * of the socket library: authentication, message dispatch, subscriptions with
 * history-then-live delivery, presence, rate limits, slow consumers and draining.
 * Frames come from the bus already redacted and serialised; each is turned into a
 * Buffer once and the same Buffer is written to every viewer.
 */
import { nanoid } from 'nanoid';
import { CloseCodes, type ErrorCode } from '../protocol/codes';
import { RuncastError, toRuncastError } from '../protocol/errors';
import type { ClientMessage, Scope, ServerMessage } from '../protocol/messages';
import { TERMINAL_KINDS, type RunId } from '../protocol/events';
import { parseClientMessage } from '../protocol/validate';
import type { Bus, SealedFrame, Subscription } from '../channels/types';
import type { RunService } from '../runs/run-service';
import type { Metrics } from '../metrics/metrics';
import type { GatewaySocket, Principal } from './socket';
import { createRateLimiter, type RateLimiter } from './rate-limiter';

export interface GatewayOptions {
  bus: Bus;
  runs: RunService;
  metrics: Metrics;
  verify(token: string): Promise<Principal>;
  /** True while new runs may be taken (bus healthy). */
  ready(): Promise<boolean>;
  authTimeoutMs: number;
  heartbeatMs: number;
  maxMessageBytes: number;
  slowConsumerBytes: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  maxSubscriptions: number;
  maxConnectionsPerUser: number;
  onError(message: string, err: unknown): void;
}

export interface Connection {
  /** A text frame arrived. */
  onText(text: string): void;
  /** A binary frame arrived (refused with `bad_frame`). */
  onBinary(): void;
  /** The socket closed, for whatever reason. */
  onClose(): void;
}

export interface Gateway {
  /** Take a new socket; `principal` when the handshake carried a valid bearer token. */
  accept(socket: GatewaySocket, principal?: Principal): Connection;
  /** Stop taking runs, let runs end within `graceMs`, close every connection with 1001. */
  shutdown(graceMs: number): Promise<void>;
  connectionCount(): number;
}

/** How often token expiry is checked: a connection is closed at most this long after its token's exp. */
const EXPIRY_SWEEP_MS = 250;

/** Shared by every connection that follows no run (never written to). */
const NO_SUBS: ReadonlyMap<string, unknown> = new Map();

/** Above this many bytes in the socket's buffer, the connection's queue waits for writes to complete. */
const WRITE_HIGH_WATER = 256 * 1024;

/** What the gateway derives from a frame, once per frame and shared by every viewer of it. */
interface WireFrame {
  buffer: Buffer;
  /** The event's `time`, ms since the epoch. */
  time: number;
  /** Whether its delivery latency was recorded (once per event, at its first live delivery). */
  observed: boolean;
}
const wireFrames = new WeakMap<SealedFrame, WireFrame>();
/** The frame text begins `{"type":"event","runId":…,"seq":…,"time":"<ISO>"`: no need to parse it all. */
const TIME_FIELD = /"time":"([^"]+)"/;
function wireOf(frame: SealedFrame): WireFrame {
  let w = wireFrames.get(frame);
  if (!w) {
    const m = TIME_FIELD.exec(frame.text.slice(0, 512));
    w = { buffer: Buffer.from(frame.text), time: m ? Date.parse(m[1]!) : Date.now(), observed: false };
    wireFrames.set(frame, w);
  }
  return w;
}

export function createGateway(opts: GatewayOptions): Gateway {
  const { bus, runs, metrics } = opts;
  const connections = new Set<ConnectionState>();
  /**
   * Authenticated connections, swept every EXPIRY_SWEEP_MS for tokens whose `exp` passed
   * without a refresh (one timer for all, rather than one per connection).
   */
  const authenticated = new Set<ConnectionState>();
  const expirySweep = setInterval(() => {
    const nowSec = Date.now() / 1000;
    for (const c of authenticated) {
      if (c.principal && c.principal.exp <= nowSec) {
        metrics.authFailures.inc({ reason: 'expired' });
        c.close(CloseCodes.unauthorized, 'token expired');
      }
    }
  }, EXPIRY_SWEEP_MS);
  expirySweep.unref();
  const perUser = new Map<string, number>();
  /** Local viewers per run, for presence messages. */
  const viewersByRun = new Map<RunId, Set<ConnectionState>>();
  let draining = false;

  // Presence is coalesced per event-loop turn: when 1,000 viewers join at once, each gets
  // the final count once instead of every intermediate one (which is quadratic).
  const presencePending = new Map<RunId, number>();
  let presenceFlush: NodeJS.Immediate | undefined;
  const flushPresence = () => {
    presenceFlush = undefined;
    for (const [runId, viewers] of presencePending) {
      const local = viewersByRun.get(runId);
      if (!local) continue;
      const text = JSON.stringify({ type: 'presence', runId, viewers } satisfies ServerMessage);
      for (const c of local) c.sendRaw(text);
    }
    presencePending.clear();
  };
  const presenceOff = bus.onPresence((runId, viewers) => {
    if (!viewersByRun.has(runId)) return;
    presencePending.set(runId, viewers);
    presenceFlush ??= setImmediate(flushPresence);
  });

  interface Sub {
    runId: RunId;
    sub?: Subscription;
    /** Frames held back until the ack is written. */
    pending: SealedFrame[] | null;
    closed: boolean;
  }

  class ConnectionState implements Connection {
    readonly id = nanoid();
    principal?: Principal;
    authTimer?: NodeJS.Timeout;
    /** The runs this connection follows (a shared empty map until the first subscription). */
    subs = NO_SUBS as Map<RunId, Sub>;
    readonly limiter: RateLimiter;
    closed = false;
    countedUser?: string;

    constructor(readonly socket: GatewaySocket) {
      this.limiter = createRateLimiter(opts.rateLimitPerSec, opts.rateLimitBurst);
    }

    /**
     * Everything this connection sends goes through one queue, so an ack always
     * precedes the events it announces. The queue is written while the socket's own
     * buffer is under WRITE_HIGH_WATER and resumes when a write completes, so a replay
     * of a long history is paced by the client's reading. A client is a slow consumer
     * when the LIVE frames waiting for it pass SLOW_CONSUMER_BYTES (history it is
     * replaying does not count: that is kept anyway).
     */
    queue: { data: string | Buffer; bytes: number; live: boolean }[] = [];
    /** Index of the next item to write (shift() would make a long replay quadratic). */
    head = 0;
    liveQueued = 0;
    writing = false;

    sendRaw(data: string | Buffer, live = false) {
      if (this.closed || !this.socket.open) return;
      const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      this.queue.push({ data, bytes, live });
      if (live) this.liveQueued += bytes;
      if (this.liveQueued + this.socket.bufferedAmount > opts.slowConsumerBytes) {
        metrics.slowConsumerDisconnects.inc();
        this.close(CloseCodes.slowConsumer, 'slow consumer: resubscribe with fromSeq');
        return;
      }
      this.pump();
    }

    pump() {
      if (this.writing) return;
      while (this.head < this.queue.length && !this.closed && this.socket.open) {
        const item = this.queue[this.head++]!;
        if (this.head === this.queue.length) (this.queue = []), (this.head = 0);
        else if (this.head >= 1024 && this.head * 2 >= this.queue.length) (this.queue = this.queue.slice(this.head)), (this.head = 0);
        if (item.live) this.liveQueued -= item.bytes;
        if (this.socket.bufferedAmount + item.bytes > WRITE_HIGH_WATER) {
          // Hand this one over and wait until it is written before sending more.
          this.writing = true;
          this.socket.send(item.data, () => {
            this.writing = false;
            this.pump();
          });
          return;
        }
        this.socket.send(item.data);
      }
    }

    send(msg: ServerMessage) {
      this.sendRaw(JSON.stringify(msg));
    }

    error(id: string | undefined, code: ErrorCode, message: string, details?: unknown) {
      this.send({ type: 'error', ...(id !== undefined ? { id } : {}), code, message, ...(details !== undefined ? { details } : {}) });
    }

    close(code: number, reason: string) {
      if (this.closed) return;
      this.queue = [];
      this.head = 0;
      this.socket.close(code, reason);
      this.cleanup();
    }

    async authenticate(principal: Principal, refresh: boolean) {
      if (refresh && this.principal && (principal.user !== this.principal.user || principal.workspace !== this.principal.workspace)) {
        this.error(undefined, 'forbidden', 'a refreshed token must be for the same sub and workspace');
        return;
      }
      if (!refresh) {
        const n = (perUser.get(principal.user) ?? 0) + 1;
        if (n > opts.maxConnectionsPerUser) {
          metrics.rateLimited.inc();
          this.error(undefined, 'rate_limited', `too many connections for user ${principal.user} (at most ${opts.maxConnectionsPerUser})`);
          this.close(CloseCodes.rateLimited, 'too many connections');
          return;
        }
        perUser.set(principal.user, n);
        this.countedUser = principal.user;
      }
      clearTimeout(this.authTimer);
      this.principal = principal;
      authenticated.add(this);
      this.send({
        type: 'ready',
        connectionId: this.id,
        user: principal.user,
        workspace: principal.workspace,
        scopes: [...principal.scopes],
        heartbeatMs: opts.heartbeatMs,
        maxMessageBytes: opts.maxMessageBytes,
      });
    }

    onBinary() {
      if (!this.principal) return this.close(CloseCodes.unauthorized, 'authenticate first');
      if (!this.limiter.take()) return this.rateLimited();
      this.error(undefined, 'bad_frame', 'binary frames are not accepted: send one JSON object per text frame');
    }

    rateLimited() {
      metrics.rateLimited.inc();
      this.error(undefined, 'rate_limited', `more than ${opts.rateLimitPerSec} messages a second`);
      this.close(CloseCodes.rateLimited, 'rate limited');
    }

    onText(text: string) {
      if (this.closed) return;
      if (!this.limiter.take()) return this.rateLimited();
      const parsed = parseClientMessage(text);
      if (!this.principal) {
        if (parsed.ok && parsed.message.type === 'auth') return void this.handleAuth(parsed.message.token, false);
        metrics.authFailures.inc({ reason: 'not_authenticated' });
        return this.close(CloseCodes.unauthorized, 'the first message must be auth');
      }
      if (!parsed.ok) return this.error(parsed.id, parsed.code, parsed.message, parsed.details);
      void this.dispatch(parsed.message).catch((err) => {
        const e = toRuncastError(err);
        const id = 'id' in parsed.message ? parsed.message.id : undefined;
        if (e.code === 'internal') {
          opts.onError(`message ${parsed.message.type} failed`, err);
          this.error(id, 'internal', 'internal error');
        } else this.error(id, e.code as ErrorCode, e.message, e.details);
      });
    }

    async handleAuth(token: string, refresh: boolean) {
      try {
        const p = await opts.verify(token);
        if (this.closed) return;
        await this.authenticate(p, refresh);
      } catch (err) {
        metrics.authFailures.inc({ reason: 'bad_token' });
        this.close(CloseCodes.unauthorized, toRuncastError(err).message.slice(0, 120));
      }
    }

    need(scope: Scope) {
      if (!this.principal!.scopes.includes(scope)) throw new RuncastError('forbidden', `this token lacks the scope ${scope}`);
    }

    async dispatch(msg: ClientMessage) {
      const p = this.principal!;
      switch (msg.type) {
        case 'auth':
          return this.handleAuth(msg.token, true);
        case 'ping':
          return this.send({ type: 'pong', id: msg.id });
        case 'run': {
          this.need('runs:execute');
          if (draining) throw new RuncastError('unavailable', 'this instance is shutting down and takes no new runs: reconnect to another instance');
          if (!(await opts.ready())) throw new RuncastError('unavailable', 'no new runs right now: the bus (Redis) is unreachable; try again shortly');
          if (this.subs.size >= opts.maxSubscriptions)
            throw new RuncastError('too_many_subscriptions', `at most ${opts.maxSubscriptions} subscriptions per connection`);
          const runId = await runs.start({
            ...(msg.workflowId !== undefined ? { workflowId: msg.workflowId } : {}),
            ...(msg.workflow !== undefined ? { workflow: msg.workflow } : {}),
            input: msg.input ?? {},
            breakpoints: msg.breakpoints ?? [],
            caller: { user: p.user, workspace: p.workspace },
          });
          metrics.runsStarted.inc({ mode: 'realtime' });
          return this.subscribe(msg.id, runId, 0, 'run');
        }
        case 'subscribe': {
          this.need('runs:watch');
          const meta = await runs.visibleRun(msg.runId, p.workspace);
          if (!meta) throw new RuncastError('not_found', `no run "${msg.runId}"`);
          if (!this.subs.has(msg.runId) && this.subs.size >= opts.maxSubscriptions)
            throw new RuncastError('too_many_subscriptions', `at most ${opts.maxSubscriptions} subscriptions per connection`);
          const fromSeq = msg.fromSeq ?? 0;
          // Events after fromSeq existed but the history is gone (only the meta tombstone is
          // left): reading the tail is enough. A partly trimmed history makes subscribe reject.
          if (meta.lastSeq > fromSeq && (await bus.history(msg.runId, meta.lastSeq - 1)).length === 0)
            throw new RuncastError('history_expired', `events after seq ${fromSeq} of run "${msg.runId}" are no longer kept`);
          return this.subscribe(msg.id, msg.runId, fromSeq, 'subscribe');
        }
        case 'unsubscribe':
          this.unsubscribe(msg.runId);
          return this.send({ type: 'ack', id: msg.id, runId: msg.runId });
        case 'cancel': {
          const meta = await runs.visibleRun(msg.runId, p.workspace);
          if (!meta) throw new RuncastError('not_found', `no run "${msg.runId}"`);
          if (!p.scopes.includes('runs:cancel') && meta.startedBy !== p.user)
            throw new RuncastError('forbidden', 'cancelling needs the scope runs:cancel, or to be the user who started the run');
          await runs.cancel(msg.runId, p.user);
          return this.send({ type: 'ack', id: msg.id, runId: msg.runId });
        }
        case 'continue': {
          this.need('runs:execute');
          const meta = await runs.visibleRun(msg.runId, p.workspace);
          if (!meta) throw new RuncastError('not_found', `no run "${msg.runId}"`);
          await runs.resume(msg.runId, msg.step ?? false);
          return this.send({ type: 'ack', id: msg.id, runId: msg.runId });
        }
      }
    }

    /** Subscribe this connection; the ack of `run` is `{id, runId}`, that of `subscribe` adds `lastSeq`. */
    async subscribe(id: string, runId: RunId, fromSeq: number, answering: 'run' | 'subscribe') {
      this.unsubscribe(runId);
      const entry: Sub = { runId, pending: [], closed: false };
      if (this.subs === NO_SUBS) this.subs = new Map();
      this.subs.set(runId, entry);
      const deliver = (frame: SealedFrame) => {
        if (entry.closed) return;
        if (entry.pending) return void entry.pending.push(frame);
        this.deliver(frame, true);
      };
      let sub: Subscription;
      try {
        sub = await bus.subscribe(runId, fromSeq, deliver);
      } catch (err) {
        this.subs.delete(runId);
        throw err;
      }
      if (entry.closed || this.closed) return sub.close();
      entry.sub = sub;
      metrics.subscriptions.inc();
      let set = viewersByRun.get(runId);
      if (!set) viewersByRun.set(runId, (set = new Set()));
      set.add(this);
      this.send(answering === 'run' ? { type: 'ack', id, runId } : { type: 'ack', id, runId, lastSeq: sub.lastSeq });
      // Counted before the history is flushed: a terminal event in it ends the subscription (-1).
      bus.presence(runId, +1).catch((err) => opts.onError('presence update failed', err));
      const pending = entry.pending!;
      entry.pending = null;
      for (const f of pending) this.deliver(f, false);
    }

    deliver(frame: SealedFrame, live: boolean) {
      const wire = wireOf(frame);
      this.sendRaw(wire.buffer, live);
      metrics.eventsSent.inc();
      metrics.bytesSent.inc(wire.buffer.length);
      if (live && !wire.observed) {
        wire.observed = true;
        metrics.deliveryLatency.observe(Math.max(0, Date.now() - wire.time) / 1000);
      }
      // The run ended: its subscription is over, and no longer counts toward the limit.
      if (TERMINAL_KINDS.has(frame.kind)) this.unsubscribe(frame.runId);
    }

    unsubscribe(runId: RunId) {
      const entry = this.subs.get(runId);
      if (!entry) return;
      this.subs.delete(runId);
      entry.closed = true;
      if (entry.sub) {
        entry.sub.close();
        metrics.subscriptions.dec();
        const set = viewersByRun.get(runId);
        set?.delete(this);
        if (set && set.size === 0) viewersByRun.delete(runId);
        bus.presence(runId, -1).catch((err) => opts.onError('presence update failed', err));
      }
    }

    cleanup() {
      if (this.closed) return;
      this.closed = true;
      clearTimeout(this.authTimer);
      authenticated.delete(this);
      for (const runId of [...this.subs.keys()]) this.unsubscribe(runId);
      if (this.countedUser) {
        const n = (perUser.get(this.countedUser) ?? 1) - 1;
        if (n <= 0) perUser.delete(this.countedUser);
        else perUser.set(this.countedUser, n);
      }
      if (connections.delete(this)) metrics.connections.dec();
    }

    onClose() {
      this.cleanup();
    }
  }

  return {
    accept(socket, principal) {
      const c = new ConnectionState(socket);
      connections.add(c);
      metrics.connections.inc();
      if (draining) {
        c.close(CloseCodes.goingAway, 'server shutting down');
        return c;
      }
      if (principal) void c.authenticate(principal, false);
      else {
        c.authTimer = setTimeout(() => {
          metrics.authFailures.inc({ reason: 'timeout' });
          c.close(CloseCodes.authTimeout, 'no auth in time');
        }, opts.authTimeoutMs);
      }
      return c;
    },
    async shutdown(graceMs) {
      draining = true;
      await runs.drain(graceMs);
      // Let the last frames reach the viewers' subscriptions before closing.
      await new Promise((r) => setImmediate(r));
      for (const c of [...connections]) c.close(CloseCodes.goingAway, 'server shutting down: reconnect and resubscribe with fromSeq');
      clearInterval(expirySweep);
      (await presenceOff)();
      if (presenceFlush) clearImmediate(presenceFlush);
    },
    connectionCount: () => connections.size,
  };
}

