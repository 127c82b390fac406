/* istanbul ignore file -- the library's source is inlined into the console page with
   Function.prototype.toString; coverage counters would break it there. */
// (A blank line must follow: TypeScript drops comments attached to an elided `import type`.)

/**
 * The runcast client: typed, browser-safe, with reconnect and resume (PROTOCOL.md
 * sections 2–5, 7). It authenticates with the `auth` first message (works in browsers),
 * matches replies to requests by id, and follows runs as async iterators of event
 * frames. After an abnormal close it reconnects with exponential backoff and jitter,
 * re-authenticates and resubscribes every followed run with `fromSeq` = the last seq
 * delivered, dropping any frame it delivered already: the application never sees the
 * reconnect. It refreshes a token from a token function before it expires.
 *
 * The whole implementation lives in one function without runtime imports, so that
 * `runcastClientLibrary.toString()` can be inlined into the console page and the
 * browser runs exactly this code.
 */
import type { EventFrame, RunId } from '../protocol/events';
import type { ClientMessage, ReadyMessage, ServerMessage } from '../protocol/messages';
import type {
  ClientErrorLike,
  ClientOptions,
  ClientStats,
  ClientStatus,
  ReceivedFrame,
  RunHandle,
  RuncastClient,
  StatusInfo,
  WebSocketConstructor,
  WebSocketLike,
} from './types';

/** Builds the library. Self-contained: must not reference anything outside its body at runtime. */
export function runcastClientLibrary() {
  /** The one error class of the client: a stable `code`, the server's `details`. */
  class ClientError extends Error implements ClientErrorLike {
    readonly code: string;
    readonly details?: unknown;
    readonly closeCode?: number;
    constructor(code: string, message: string, options: { details?: unknown; closeCode?: number; cause?: unknown } = {}) {
      super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
      this.name = 'ClientError';
      this.code = code;
      if (options.details !== undefined) this.details = options.details;
      if (options.closeCode !== undefined) this.closeCode = options.closeCode;
    }
  }

  /** The payload of a JWT, decoded without verification (the server verifies). Null if unreadable. */
  function decodeJwtPayload(token: string): Record<string, unknown> | null {
    try {
      const part = token.split('.')[1];
      if (!part) return null;
      let b64 = part.replace(/-/g, '+').replace(/_/g, '/');
      while (b64.length % 4) b64 += '=';
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
      return payload && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  /**
   * When to refresh a token, in ms from `nowMs`: 60 s or a tenth of its life before
   * `exp`, whichever is shorter (so a 10-minute token refreshes 60 s early and a 30 s
   * token 3 s early). Null when the token has no readable `exp`.
   */
  function refreshDelay(token: string, nowMs: number): number | null {
    const p = decodeJwtPayload(token);
    if (!p || typeof p.exp !== 'number') return null;
    const expMs = p.exp * 1000;
    const issuedMs = typeof p.iat === 'number' ? p.iat * 1000 : nowMs;
    const lead = Math.min(60_000, Math.max(0, (expMs - issuedMs) * 0.1));
    return Math.max(0, expMs - lead - nowMs);
  }

  /** Exponential backoff with "equal jitter": attempt 1 waits initial/2..initial, doubling up to max. */
  function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base / 2 + (random() * base) / 2);
  }

  const OPEN = 1;
  /** Close codes after which reconnecting cannot help. */
  const FATAL_CLOSE: Record<number, string> = {
    4401: 'unauthorized',
    4408: 'auth_timeout',
    4429: 'rate_limited',
    1009: 'message_too_large',
    1002: 'protocol_error',
    1003: 'protocol_error',
    1007: 'protocol_error',
    1008: 'policy_violation',
  };
  const MAX_TIMER_MS = 2 ** 31 - 1;

  interface Pending {
    id: string;
    build: () => ClientMessage;
    /** Sent again after a reconnect when the connection dropped before the reply. */
    resend: boolean;
    /** Called synchronously with the reply, before any later frame is processed. */
    onReply: (reply: ServerMessage) => unknown;
    resolve: (value: unknown) => void;
    reject: (err: ClientError) => void;
  }

  type Waiter = () => void;

  class Handle implements RunHandle {
    lastSeq: number;
    terminal: EventFrame | undefined;
    viewers: number | undefined;
    readonly done: Promise<EventFrame>;
    /** The server acknowledged the subscription (so a reconnect must resubscribe it). */
    confirmed = false;
    unsubscribed = false;
    error: ClientError | null = null;
    /** A resubscribe to repair a gap is in flight. */
    repairing = false;
    /** Settles when the first subscribe was answered (either way). */
    subscribed: Promise<void> = Promise.resolve();
    private readonly frames: ReceivedFrame[] = [];
    private readonly waiters: Waiter[] = [];
    private readonly presenceListeners = new Set<(viewers: number) => void>();
    private settle!: { resolve: (f: EventFrame) => void; reject: (e: ClientError) => void };

    constructor(readonly runId: RunId, fromSeq: number, private readonly owner: ClientCore) {
      this.lastSeq = fromSeq;
      this.done = new Promise<EventFrame>((resolve, reject) => (this.settle = { resolve, reject }));
      this.done.catch(() => undefined); // rejection is reported to whoever awaits it
    }

    /** A frame from the wire: deliver it unless seen already; repair a gap. */
    push(frame: EventFrame, raw: string): void {
      if (this.unsubscribed || this.error) return;
      if (frame.seq <= this.lastSeq) {
        this.owner.stats.duplicatesDropped++;
        return;
      }
      if (frame.seq > this.lastSeq + 1) {
        // Never expected from a correct server; resubscribing from the last delivered seq repairs it.
        if (!this.repairing) {
          this.repairing = true;
          this.owner.stats.gapsRepaired++;
          this.owner.reportError(new ClientError('gap', `run ${this.runId}: got seq ${frame.seq} after ${this.lastSeq}; resubscribing`));
          this.owner.resubscribe(this).finally(() => (this.repairing = false));
        }
        return;
      }
      this.lastSeq = frame.seq;
      this.frames.push({ frame, raw });
      const kind = frame.event.kind;
      if (kind === 'run.completed' || kind === 'run.failed' || kind === 'run.cancelled') {
        this.terminal = frame;
        this.settle.resolve(frame);
      }
      this.wake();
    }

    presence(viewers: number): void {
      if (this.unsubscribed) return;
      this.viewers = viewers;
      for (const l of [...this.presenceListeners]) {
        try {
          l(viewers);
        } catch (err) {
          this.owner.reportError(new ClientError('listener_error', `a presence listener threw: ${String(err)}`, { cause: err }));
        }
      }
    }

    fail(err: ClientError): void {
      if (this.error || this.terminal || this.unsubscribed) return;
      this.error = err;
      this.settle.reject(err);
      this.wake();
    }

    end(): void {
      this.unsubscribed = true;
      if (!this.terminal && !this.error) this.settle.reject(new ClientError('unsubscribed', `stopped following run ${this.runId}`));
      this.wake();
    }

    private wake(): void {
      for (const w of this.waiters.splice(0)) w();
    }

    received(): AsyncIterableIterator<ReceivedFrame> {
      let i = 0;
      const self = this;
      const iterator: AsyncIterableIterator<ReceivedFrame> = {
        async next(): Promise<IteratorResult<ReceivedFrame>> {
          for (;;) {
            if (i < self.frames.length) return { value: self.frames[i++]!, done: false };
            if (self.terminal || self.unsubscribed) return { value: undefined, done: true };
            if (self.error) throw self.error;
            await new Promise<void>((resolve) => self.waiters.push(resolve));
          }
        },
        async return(): Promise<IteratorResult<ReceivedFrame>> {
          i = Number.POSITIVE_INFINITY;
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    }

    events(): AsyncIterableIterator<EventFrame> {
      const inner = this.received();
      const iterator: AsyncIterableIterator<EventFrame> = {
        async next(): Promise<IteratorResult<EventFrame>> {
          const r = await inner.next();
          return r.done ? { value: undefined, done: true } : { value: r.value.frame, done: false };
        },
        async return(): Promise<IteratorResult<EventFrame>> {
          await inner.return?.();
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    }

    [Symbol.asyncIterator](): AsyncIterator<EventFrame> {
      return this.events();
    }

    onPresence(listener: (viewers: number) => void): () => void {
      this.presenceListeners.add(listener);
      return () => this.presenceListeners.delete(listener);
    }

    cancel(): Promise<void> {
      return this.owner.api.cancel(this.runId);
    }

    continue(options: { step?: boolean } = {}): Promise<void> {
      return this.owner.api.continue(this.runId, options);
    }

    unsubscribe(): Promise<void> {
      return this.owner.unsubscribe(this);
    }
  }

  interface ClientCore {
    stats: ClientStats;
    api: RuncastClient;
    reportError(err: ClientError): void;
    resubscribe(handle: Handle): Promise<void>;
    unsubscribe(handle: Handle): Promise<void>;
  }

  /**
   * Create a client and start connecting. See `ClientOptions` for the defaults.
   * Throws a `ClientError` (`invalid_options`) when there is no WebSocket class.
   */
  function createClient(options: ClientOptions): RuncastClient {
    const WS: WebSocketConstructor | undefined =
      options.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new ClientError('invalid_options', 'no WebSocket class: pass options.WebSocket (in Node: the `ws` package)');
    const protocols = options.protocols ?? ['runcast.v1'];
    const reconnect = options.reconnect === false ? null : options.reconnect ?? {};
    const initialDelayMs = reconnect?.initialDelayMs ?? 250;
    const maxDelayMs = reconnect?.maxDelayMs ?? 10_000;
    const maxAttempts = reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY;
    const tokenFn = typeof options.token === 'function' ? options.token : null;

    let token: string | null = typeof options.token === 'string' ? options.token : null;
    let socket: WebSocketLike | null = null;
    let readyMsg: ReadyMessage | null = null;
    let everReady = false;
    let status: ClientStatus = 'connecting';
    let closedByUser = false;
    let fatal: ClientError | null = null;
    let attempt = 0;
    /** A 4401 was answered by fetching a fresh token once; reset by the next `ready`. */
    let authRetried = false;
    let forceFreshToken = false;
    let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
    let refreshTimer: ReturnType<typeof setTimeout> | undefined;
    let keepAliveTimer: ReturnType<typeof setInterval> | undefined;
    let keepAliveOutstanding = false;
    let nextId = 0;
    const pending = new Map<string, Pending>();
    const queue: Pending[] = [];
    const handles = new Map<RunId, Handle>();
    let readyWaiters: { resolve: (r: ReadyMessage) => void; reject: (e: ClientError) => void }[] = [];
    const stats: ClientStats = { reconnects: 0, duplicatesDropped: 0, gapsRepaired: 0 };

    const unref = (t: unknown) => (t as { unref?: () => void } | undefined)?.unref?.();

    const setStatus = (s: ClientStatus, info: StatusInfo = {}) => {
      status = s;
      try {
        options.onStatus?.(s, info);
      } catch {
        // a throwing status listener must not break the connection logic
      }
    };

    const reportError = (err: ClientError) => {
      try {
        options.onError?.(err);
      } catch {
        // ignore: see setStatus
      }
    };

    const clearTimers = () => {
      clearTimeout(refreshTimer);
      clearInterval(keepAliveTimer);
      refreshTimer = undefined;
      keepAliveTimer = undefined;
      keepAliveOutstanding = false;
    };

    const write = (p: Pending) => {
      pending.set(p.id, p);
      socket!.send(JSON.stringify(p.build()));
    };

    const enqueue = (p: Pending) => {
      if (readyMsg && socket && socket.readyState === OPEN) write(p);
      else queue.push(p);
    };

    /** Send a request; resolves with `onReply(reply)` for its `ack`/`pong`, rejects with its `error`. */
    function request<T>(build: () => ClientMessage, resend: boolean, onReply: (reply: ServerMessage) => T = (r) => r as T): Promise<T> {
      if (fatal) return Promise.reject(fatal);
      if (closedByUser) return Promise.reject(new ClientError('closed', 'the client was closed'));
      const id = `c${++nextId}`;
      return new Promise<T>((resolve, reject) => {
        enqueue({
          id,
          build: () => ({ ...build(), id }) as ClientMessage,
          resend,
          onReply,
          resolve: resolve as (v: unknown) => void,
          reject,
        });
      });
    }

    /** Stop for good: close the socket and fail everything that waits with `err`. */
    const stop = (err: ClientError, reason: string) => {
      clearTimeout(reconnectTimer);
      clearTimers();
      const s = socket;
      socket = null;
      readyMsg = null;
      if (s) {
        detach(s);
        try {
          s.close(1000, reason);
        } catch {
          // already closing, or never opened
        }
      }
      for (const p of [...queue.splice(0), ...pending.values()]) p.reject(err);
      pending.clear();
      for (const h of handles.values()) h.fail(err);
      for (const w of readyWaiters.splice(0)) w.reject(err);
    };

    const giveUp = (err: ClientError) => {
      if (fatal || closedByUser) return;
      fatal = err;
      stop(err, 'client gave up');
      setStatus('closed', { error: err, ...(err.closeCode !== undefined ? { closeCode: err.closeCode } : {}) });
    };

    const detach = (s: WebSocketLike) => {
      s.onopen = s.onmessage = s.onclose = null;
      s.onerror = () => undefined;
    };

    const obtainToken = async (): Promise<string> => {
      if (tokenFn && (token === null || forceFreshToken || nearExpiry(token))) {
        token = await tokenFn();
        forceFreshToken = false;
      }
      return token!;
    };

    const nearExpiry = (t: string) => {
      const d = refreshDelay(t, Date.now());
      return d !== null && d <= 0;
    };

    async function connect(): Promise<void> {
      if (fatal || closedByUser) return;
      setStatus(everReady ? 'reconnecting' : 'connecting', attempt ? { attempt } : {});
      let tok: string;
      try {
        tok = await obtainToken();
      } catch (err) {
        const e = new ClientError('token_error', `the token function failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        if (!everReady) return giveUp(e);
        reportError(e);
        return scheduleReconnect(undefined, e.message);
      }
      if (fatal || closedByUser) return;
      let s: WebSocketLike;
      try {
        s = new WS!(options.url, protocols);
      } catch (err) {
        return giveUp(new ClientError('connection_failed', `cannot open ${options.url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      }
      socket = s;
      readyMsg = null;
      s.onopen = () => {
        if (socket === s) s.send(JSON.stringify({ type: 'auth', token: tok }));
      };
      s.onmessage = (ev: { data: unknown }) => {
        if (socket === s) onText(typeof ev.data === 'string' ? ev.data : String(ev.data));
      };
      s.onerror = () => undefined; // a close event follows
      s.onclose = (ev: { code?: number; reason?: string }) => {
        if (socket === s) onClosed(ev.code ?? 1006, ev.reason ?? '');
      };
    }

    const scheduleReconnect = (closeCode: number | undefined, reason: string) => {
      if (!reconnect) {
        return giveUp(new ClientError('connection_lost', `connection lost (${closeCode ?? 'no code'} ${reason}) and reconnecting is off`, closeCode !== undefined ? { closeCode } : {}));
      }
      attempt++;
      if (attempt > maxAttempts) {
        return giveUp(new ClientError('connection_lost', `connection lost; gave up after ${maxAttempts} attempts (${closeCode ?? ''} ${reason})`.trim(), closeCode !== undefined ? { closeCode } : {}));
      }
      const delayMs = backoffDelay(attempt, initialDelayMs, maxDelayMs);
      setStatus('reconnecting', { attempt, delayMs, ...(closeCode !== undefined ? { closeCode } : {}), reason });
      reconnectTimer = setTimeout(() => void connect(), delayMs);
    };

    function onClosed(code: number, reason: string): void {
      const s = socket;
      if (s) detach(s);
      socket = null;
      const wasReady = readyMsg !== null;
      readyMsg = null;
      clearTimers();
      // Requests written to the lost socket: idempotent ones go again, the others fail
      // (a `run` may or may not have started; only the application can decide).
      const inFlight = [...pending.values()];
      pending.clear();
      const again: Pending[] = [];
      for (const p of inFlight) {
        if (p.resend) again.push(p);
        else p.reject(new ClientError('connection_lost', `the connection dropped before the reply to this ${p.build().type}`, { closeCode: code }));
      }
      queue.unshift(...again);
      if (closedByUser || fatal) return;

      const fatalName = FATAL_CLOSE[code];
      if ((code === 4401 || code === 4408) && tokenFn && !authRetried) {
        // Once: the token may just have expired. A fresh one, then straight back.
        authRetried = true;
        forceFreshToken = true;
        setStatus('reconnecting', { closeCode: code, reason, attempt: 0, delayMs: 0 });
        void connect();
        return;
      }
      if (fatalName) {
        return giveUp(new ClientError(fatalName, `connection closed with ${code}${reason ? `: ${reason}` : ''}`, { closeCode: code }));
      }
      if (!everReady) {
        return giveUp(new ClientError('connection_failed', `cannot connect to ${options.url} (${code}${reason ? ` ${reason}` : ''})`, { closeCode: code }));
      }
      if (wasReady) attempt = 0;
      scheduleReconnect(code, reason);
    }

    function onText(text: string): void {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(text) as ServerMessage;
      } catch {
        reportError(new ClientError('bad_json', 'the server sent a frame that is not JSON'));
        return;
      }
      switch (msg.type) {
        case 'ready':
          return onReady(msg);
        case 'ack':
        case 'pong': {
          const p = pending.get(msg.id);
          if (!p) return;
          pending.delete(msg.id);
          let value: unknown;
          try {
            value = p.onReply(msg);
          } catch (err) {
            return p.reject(err instanceof ClientError ? err : new ClientError('internal', String(err), { cause: err }));
          }
          return p.resolve(value);
        }
        case 'error': {
          const err = new ClientError(msg.code, msg.message, msg.details !== undefined ? { details: msg.details } : {});
          const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
          if (p) {
            pending.delete(p.id);
            return p.reject(err);
          }
          return reportError(err);
        }
        case 'event':
          return void handles.get(msg.runId)?.push(msg, text);
        case 'presence':
          return void handles.get(msg.runId)?.presence(msg.viewers);
        default:
          return;
      }
    }

    function onReady(msg: ReadyMessage): void {
      const refreshed = readyMsg !== null;
      readyMsg = msg;
      scheduleRefresh();
      if (refreshed) return;
      if (everReady) stats.reconnects++;
      everReady = true;
      attempt = 0;
      authRetried = false;
      setStatus('ready', {});
      startKeepAlive(msg.heartbeatMs);
      // Resume every followed run first, then whatever waited for the connection.
      for (const h of handles.values()) if (h.confirmed && !h.unsubscribed) void core.resubscribe(h);
      for (const p of queue.splice(0)) write(p);
      for (const w of readyWaiters.splice(0)) w.resolve(msg);
    }

    function scheduleRefresh(): void {
      clearTimeout(refreshTimer);
      refreshTimer = undefined;
      if (!tokenFn || token === null) return;
      const delay = refreshDelay(token, Date.now());
      if (delay === null) return;
      const current = token;
      refreshTimer = setTimeout(() => void refresh(current), Math.min(delay, MAX_TIMER_MS));
      unref(refreshTimer);
    }

    async function refresh(old: string): Promise<void> {
      let fresh: string;
      try {
        fresh = await tokenFn!();
      } catch (err) {
        reportError(new ClientError('token_error', `refreshing the token failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
        return;
      }
      const oldExp = decodeJwtPayload(old)?.exp;
      const newExp = decodeJwtPayload(fresh)?.exp;
      // The same (or an older) token again: sending it would loop; the server closes at exp.
      if (typeof oldExp === 'number' && (typeof newExp !== 'number' || newExp <= oldExp)) return;
      token = fresh;
      if (socket && readyMsg && socket.readyState === OPEN) socket.send(JSON.stringify({ type: 'auth', token: fresh }));
    }

    function startKeepAlive(heartbeatMs: number): void {
      if (options.keepAliveMs === false) return;
      const every = Math.max(1_000, options.keepAliveMs ?? heartbeatMs);
      keepAliveTimer = setInterval(() => {
        const s = socket;
        if (!s || !readyMsg) return;
        if (keepAliveOutstanding) {
          // The previous ping went unanswered: the connection is dead even if no close came.
          detach(s);
          try {
            s.close(4000, 'no pong');
          } catch {
            // already closing
          }
          socket = s; // let onClosed see it as the current socket
          onClosed(1006, 'no answer to ping');
          return;
        }
        keepAliveOutstanding = true;
        request(() => ({ type: 'ping', id: '' }), false).then(
          () => (keepAliveOutstanding = false),
          () => undefined,
        );
      }, every);
      unref(keepAliveTimer);
    }

    const subscribeMessage = (h: Handle) => (): ClientMessage => ({ type: 'subscribe', id: '', runId: h.runId, fromSeq: h.lastSeq });

    const core: ClientCore = {
      stats,
      api: undefined as unknown as RuncastClient,
      reportError,
      async resubscribe(h) {
        try {
          await request(subscribeMessage(h), true);
        } catch (err) {
          const e = err as ClientError;
          if (h.terminal) return; // the run ended; nothing left to follow
          if (e.code !== 'closed' && e.code !== 'connection_lost') h.fail(e);
        }
      },
      async unsubscribe(h) {
        if (h.unsubscribed) return;
        h.end();
        if (handles.get(h.runId) === h) handles.delete(h.runId);
        if (!h.confirmed || fatal || closedByUser) return;
        try {
          await request(() => ({ type: 'unsubscribe', id: '', runId: h.runId }), true);
        } catch {
          // the subscription dies with the connection anyway
        }
      },
    };

    const api: RuncastClient = {
      run(runOptions) {
        const { workflowId, workflow, input, breakpoints } = runOptions;
        const build = (): ClientMessage => ({
          type: 'run',
          id: '',
          ...(workflowId !== undefined ? { workflowId } : {}),
          ...(workflow !== undefined ? { workflow } : {}),
          ...(input !== undefined ? { input } : {}),
          ...(breakpoints !== undefined && breakpoints.length ? { breakpoints } : {}),
        });
        // The gateway writes the ack before the run's first event: the handle exists in time.
        return request(build, false, (reply) => {
          const runId = (reply as { runId?: string }).runId;
          if (typeof runId !== 'string') throw new ClientError('internal', 'the run was acknowledged without a runId');
          const h = new Handle(runId, 0, core);
          h.confirmed = true;
          handles.get(runId)?.end();
          handles.set(runId, h);
          return h as RunHandle;
        });
      },
      async subscribe(runId, subscribeOptions = {}) {
        const existing = handles.get(runId);
        if (existing && !existing.unsubscribed && !existing.error) {
          await existing.subscribed;
          if (existing.error) throw existing.error;
          return existing;
        }
        const fromSeq = subscribeOptions.fromSeq ?? 0;
        const h = new Handle(runId, fromSeq, core);
        handles.set(runId, h);
        const confirmed = request(subscribeMessage(h), true, () => {
          h.confirmed = true;
          return h as RunHandle;
        });
        h.subscribed = confirmed.then(() => undefined, () => undefined);
        try {
          return await confirmed;
        } catch (err) {
          if (handles.get(runId) === h) handles.delete(runId);
          h.fail(err as ClientError);
          throw err;
        }
      },
      async cancel(runId) {
        await request(() => ({ type: 'cancel', id: '', runId }), true);
      },
      async continue(runId, continueOptions = {}) {
        await request(() => ({ type: 'continue', id: '', runId, ...(continueOptions.step ? { step: true } : {}) }), false);
      },
      async ping() {
        const t0 = Date.now();
        await request(() => ({ type: 'ping', id: '' }), false);
        return Date.now() - t0;
      },
      ready() {
        if (fatal) return Promise.reject(fatal);
        if (closedByUser) return Promise.reject(new ClientError('closed', 'the client was closed'));
        if (readyMsg) return Promise.resolve(readyMsg);
        return new Promise<ReadyMessage>((resolve, reject) => readyWaiters.push({ resolve, reject }));
      },
      get status() {
        return status;
      },
      get stats() {
        return stats;
      },
      close() {
        if (closedByUser) return;
        closedByUser = true;
        stop(new ClientError('closed', 'the client was closed'), 'client closed');
        if (!fatal) setStatus('closed', {});
      },
      _debugDropConnection() {
        const s = socket as (WebSocketLike & { terminate?: () => void }) | null;
        if (!s) return;
        if (typeof s.terminate === 'function') s.terminate();
        else s.close(4000, 'debug: connection dropped');
      },
    };
    core.api = api;
    void connect();
    return api;
  }

  return { createClient, ClientError, decodeJwtPayload, refreshDelay, backoffDelay };
}

const library = runcastClientLibrary();

/** Create a client and start connecting (see `ClientOptions`). */
export const createClient: (options: ClientOptions) => RuncastClient = library.createClient;
/** The client's error class: `code` (protocol or client-side), `details`, `closeCode`. */
export const ClientError = library.ClientError;
export type ClientError = InstanceType<typeof library.ClientError>;
/** Decode a JWT's payload without verifying it; null if unreadable. */
export const decodeJwtPayload = library.decodeJwtPayload;
/** Milliseconds from `nowMs` until a token should be refreshed; null without `exp`. */
export const refreshDelay = library.refreshDelay;
/** The reconnect delay before attempt `attempt` (1-based), with jitter. */
export const backoffDelay = library.backoffDelay;
