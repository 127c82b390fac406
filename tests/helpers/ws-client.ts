/**
 * A raw `ws` client for tests, with a queueing waiter: every text frame the server
 * sends is parsed and kept in `frames`; `next(pred)` hands out the first frame not yet
 * handed out that matches `pred`, waiting for it if needed. Frames that do not match
 * stay queued for later `next` calls, so a test can wait for an `ack` and then for the
 * events that arrived before it, in any order, without sleeps.
 *
 * ```ts
 * const c = await connect(server.wsUrl, { token });            // Authorization: Bearer
 * c.send({ type: 'run', id: 'r1', workflow });
 * const ack = await c.next((m) => m.type === 'ack' && m.id === 'r1');
 * const done = await c.next((m) => m.type === 'event' && m.event.kind === 'run.completed');
 * expect(await c.closed).toEqual({ code: 4401, reason: expect.any(String) });
 * ```
 */
import WebSocket from 'ws';

/** A frame predicate, or a message `type` (`'ready'`, `'ack'`, …) as shorthand. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FramePredicate = string | ((frame: any) => boolean);

export interface ConnectOptions {
  /** Sent as the handshake header `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as the first message `{"type":"auth","token":…}` right after the socket opens. */
  authMessage?: string;
  /** Offered subprotocols; default `['runcast.v1']`. Pass `[]` to offer none. */
  protocols?: string[];
  /** Extra handshake headers (e.g. `Origin`). */
  headers?: Record<string, string>;
  /** Default deadline of `next` in ms (a failure guard, never a delay). Default 5 000. */
  timeoutMs?: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface WsTestClient {
  ws: WebSocket;
  /** Every parsed text frame received so far, in order (handed out or not). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  frames: any[];
  /** The raw text of every text frame, in order (same indexes as `frames`). */
  texts: string[];
  /**
   * The first frame not handed out yet that matches; waits for one. Rejects after
   * `timeoutMs`, or as soon as the socket closes without a match, naming what arrived.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  next(pred?: FramePredicate, timeoutMs?: number): Promise<any>;
  /** Collects matching frames (handing them out) until `until` holds for the last one. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  collect(pred: FramePredicate, until: (frame: any) => boolean, timeoutMs?: number): Promise<any[]>;
  /** JSON.stringify and send (a string is sent as is). */
  send(obj: unknown): void;
  /** Send text or binary exactly as given. */
  sendRaw(data: string | Buffer): void;
  /** Resolves when the socket closed, with the close code and reason (never rejects). */
  closed: Promise<CloseInfo>;
  /** Close from the client side and wait for the close to complete. */
  close(code?: number, reason?: string): Promise<CloseInfo>;
}

/** The handshake was refused (HTTP status instead of 101). */
export class HandshakeError extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`WebSocket handshake refused with HTTP ${status}: ${body}`);
    this.name = 'HandshakeError';
  }
}

interface Waiter {
  match: (frame: unknown) => boolean;
  resolve(frame: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  label: string;
}

function toMatcher(pred: FramePredicate | undefined): (frame: unknown) => boolean {
  if (pred === undefined) return () => true;
  if (typeof pred === 'string') return (f) => (f as { type?: unknown } | null)?.type === pred;
  return pred;
}

function summary(frames: readonly unknown[]): string {
  const last = frames.slice(-8).map((f) => {
    const t = JSON.stringify(f);
    return t.length > 300 ? `${t.slice(0, 300)}…` : t;
  });
  return `${frames.length} frame(s) received${last.length ? `; last: ${last.join(' | ')}` : ''}`;
}

/**
 * Open a WebSocket to `url`. Resolves once the socket is open (not once `ready`
 * arrived: wait for that with `next('ready')`). Rejects with a {@link HandshakeError}
 * when the server answers the upgrade with an HTTP status, or with the socket error.
 */
export function connect(url: string, options: ConnectOptions = {}): Promise<WsTestClient> {
  const { timeoutMs: defaultTimeout = 15_000 } = options;
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  const ws = new WebSocket(url, options.protocols ?? ['runcast.v1'], { headers, perMessageDeflate: false });

  const frames: unknown[] = [];
  const texts: string[] = [];
  const handedOut = new Set<number>();
  const waiters: Waiter[] = [];
  let closeInfo: CloseInfo | undefined;
  let resolveClosed!: (info: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((r) => (resolveClosed = r));

  const take = (match: (frame: unknown) => boolean): { found: boolean; frame?: unknown } => {
    for (let i = 0; i < frames.length; i++) {
      if (handedOut.has(i) || !match(frames[i])) continue;
      handedOut.add(i);
      return { found: true, frame: frames[i] };
    }
    return { found: false };
  };

  ws.on('message', (data, isBinary) => {
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = { $unparsable: text, binary: isBinary };
    }
    const index = frames.push(frame) - 1;
    texts.push(text);
    for (let w = 0; w < waiters.length; w++) {
      const waiter = waiters[w]!;
      if (!waiter.match(frame)) continue;
      handedOut.add(index);
      waiters.splice(w, 1);
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
      return;
    }
  });
  ws.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString() };
    resolveClosed(closeInfo);
    for (const waiter of waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${waiter.label}: the socket closed (${code} ${closeInfo.reason}) before a matching frame; ${summary(frames)}`));
    }
  });
  // Errors are followed by 'close'; without a listener an error would crash the process.
  ws.on('error', () => undefined);

  const client: WsTestClient = {
    ws,
    frames,
    texts,
    next(pred, timeoutMs = defaultTimeout) {
      const match = toMatcher(pred);
      const label = `next(${typeof pred === 'string' ? pred : pred ? 'predicate' : 'any'})`;
      const got = take(match);
      if (got.found) return Promise.resolve(got.frame);
      if (closeInfo) {
        return Promise.reject(new Error(`${label}: the socket is closed (${closeInfo.code} ${closeInfo.reason}); ${summary(frames)}`));
      }
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          match,
          resolve,
          reject,
          label,
          timer: setTimeout(() => {
            const i = waiters.indexOf(waiter);
            if (i >= 0) waiters.splice(i, 1);
            reject(new Error(`${label}: no matching frame within ${timeoutMs} ms; ${summary(frames)}`));
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    async collect(pred, until, timeoutMs = defaultTimeout) {
      const match = toMatcher(pred);
      const out: unknown[] = [];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = await client.next(match, Math.max(1, deadline - Date.now()));
        out.push(frame);
        if (until(frame)) return out;
      }
    },
    send(obj) {
      ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
    },
    sendRaw(data) {
      ws.send(data, { binary: typeof data !== 'string' });
    },
    closed,
    close(code = 1000, reason = '') {
      if (!closeInfo && ws.readyState !== WebSocket.CLOSING && ws.readyState !== WebSocket.CLOSED) ws.close(code, reason);
      return closed;
    },
  };

  return new Promise<WsTestClient>((resolve, reject) => {
    const onUnexpected = (_req: unknown, res: import('node:http').IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      const refused = () => {
        reject(new HandshakeError(res.statusCode ?? 0, body));
        ws.terminate(); // with this listener, ws leaves aborting the handshake to us
      };
      res.on('end', refused);
      res.on('error', refused);
    };
    ws.once('unexpected-response', onUnexpected);
    ws.once('open', () => {
      ws.off('unexpected-response', onUnexpected);
      if (options.authMessage !== undefined) client.send({ type: 'auth', token: options.authMessage });
      resolve(client);
    });
    ws.once('error', (err) => reject(err));
  });
}
