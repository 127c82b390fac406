/**
 * A load-generating process (forked by the orchestrator; several run side by side):
 * opens connections of one kind — runcast viewers (`ws` client, bearer token in the
 * handshake), bare `ws` clients, or Socket.IO clients (websocket transport only) — and
 * measures what they receive. Every kind is measured the same way: a frame's latency is
 * its arrival (wall clock, sub-millisecond) minus its `time`, read from the frame's first
 * characters without parsing the rest.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { io as ioClient, type Socket } from 'socket.io-client';
import { signToken } from '../src/auth';
import { serveCommands } from './ipc';
import { HEADER_CHARS, readEventHeader, Samples, wallNow } from './samples';

export type ClientKind = 'runcast' | 'ws' | 'socketio';

export interface OpenArgs {
  kind: ClientKind;
  /** ws://… for runcast (…/v1/ws) and ws; http://… for Socket.IO. */
  url: string;
  count: number;
  /** runcast: each connection gets a token for `${subPrefix}${index}` (one user per connection). */
  auth?: { secret: string; workspace: string; subPrefix: string; scopes: string[] };
  /** Source addresses, used in turn (127.x.y.z), so that ports do not run short. */
  localAddresses?: string[];
  /** Handshakes in flight at once. Default 64. */
  concurrency?: number;
}

export interface OpenResult {
  startedAt: number;
  endedAt: number;
  opened: number;
  failed: number;
  firstError?: string;
}

export interface CollectResult {
  received: number;
  expected: number;
  complete: boolean;
  latencies: Float64Array;
  /** Earliest and latest `time` of a frame in the window (ms since the epoch). */
  firstSentAt: number;
  lastSentAt: number;
  lastReceivedAt: number;
  closedEarly: number;
  closeCodes: number[];
}

export interface RunsResult {
  sentAt: number;
  doneAt: Float64Array;
  events: number;
  latencies: Float64Array;
  failures: string[];
}

interface Conn {
  index: number;
  send(text: string): void;
  close(): Promise<void>;
  closed: boolean;
  closeCode?: number;
  /** Frames of the measurement window received. */
  got: number;
  /** Waiters for replies (`ack`, `error`) by message id. */
  replies: Map<string, (m: Record<string, unknown>) => void>;
  /** While set (by `runs`), every event frame goes here instead of to the measurement window. */
  onEvent?: (h: { seq: number; sentAt: number; kind: string }, at: number) => void;
}

let conns: Conn[] = [];
let lastFrameAt = 0;
let token0: string | undefined;
let cpuMark = process.cpuUsage();

interface Window {
  minSeq: number;
  expect: number;
  latencies: Samples;
  firstSentAt: number;
  lastSentAt: number;
  lastReceivedAt: number;
  done: number;
  finished?: () => void;
}
let win: Window | null = null;

function onText(conn: Conn, head: string): void {
  const at = wallNow();
  lastFrameAt = at;
  const h = readEventHeader(head);
  if (!h) return;
  if (conn.onEvent) return conn.onEvent(h, at);
  const w = win;
  if (!w || h.seq <= w.minSeq) return;
  w.latencies.push(at - h.sentAt);
  if (h.sentAt < w.firstSentAt) w.firstSentAt = h.sentAt;
  if (h.sentAt > w.lastSentAt) w.lastSentAt = h.sentAt;
  if (at > w.lastReceivedAt) w.lastReceivedAt = at;
  if (++conn.got === w.expect && ++w.done === conns.length) w.finished?.();
}

/** A reply (`ready`, `ack`, `error`) — the only frames parsed whole. */
function onControl(conn: Conn, text: string): void {
  if (text.startsWith('{"type":"presence"')) return;
  const m = JSON.parse(text) as Record<string, unknown>;
  const key = m.type === 'ready' ? '#ready' : typeof m.id === 'string' ? m.id : undefined;
  if (key === undefined) return;
  const waiter = conn.replies.get(key);
  if (waiter) {
    conn.replies.delete(key);
    waiter(m);
  }
}

function reply(conn: Conn, key: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply ${key} within ${timeoutMs} ms`)), timeoutMs);
    conn.replies.set(key, (m) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
}

function openWs(index: number, args: OpenArgs, token: string | undefined): Promise<Conn> {
  const localAddress = args.localAddresses?.length ? args.localAddresses[index % args.localAddresses.length] : undefined;
  const ws = new WebSocket(args.url, args.kind === 'runcast' ? ['runcast.v1'] : [], {
    perMessageDeflate: false,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    ...(localAddress ? { localAddress } : {}),
  });
  let closedResolve: () => void;
  const closedP = new Promise<void>((r) => (closedResolve = r));
  const conn: Conn = {
    index,
    send: (text) => ws.send(text),
    close: () => {
      if (!conn.closed) ws.close();
      return closedP;
    },
    closed: false,
    got: 0,
    replies: new Map(),
  };
  const ready = reply(conn, '#ready', 120_000);
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return;
    const head = data.toString('latin1', 0, Math.min(HEADER_CHARS, data.length));
    if (head.startsWith('{"type":"event"')) onText(conn, head);
    else {
      lastFrameAt = wallNow();
      onControl(conn, data.toString('utf8'));
    }
  });
  ws.on('close', (code) => {
    conn.closed = true;
    conn.closeCode = code;
    closedResolve();
    const waiter = conn.replies.get('#ready');
    if (waiter) waiter({ type: 'closed', code });
  });
  ws.on('error', () => undefined);
  return ready.then((m) => {
    if (m.type !== 'ready') throw new Error(`connection ${index} closed before ready (${String(m.code)})`);
    return conn;
  });
}

function openSocketIo(index: number, args: OpenArgs): Promise<Conn> {
  const localAddress = args.localAddresses?.length ? args.localAddresses[index % args.localAddresses.length] : undefined;
  const s: Socket = ioClient(args.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    ...(localAddress ? { localAddress } : {}),
  });
  let closedResolve: () => void;
  const closedP = new Promise<void>((r) => (closedResolve = r));
  const conn: Conn = {
    index,
    send: () => undefined,
    close: () => {
      if (!conn.closed) s.disconnect();
      return closedP;
    },
    closed: false,
    got: 0,
    replies: new Map(),
  };
  s.on('event', (text: string) => onText(conn, text.length > HEADER_CHARS ? text.slice(0, HEADER_CHARS) : text));
  s.on('disconnect', () => {
    conn.closed = true;
    closedResolve();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket.io connection ${index}: no ready`)), 120_000);
    s.once('ready', () => {
      clearTimeout(timer);
      lastFrameAt = wallNow();
      resolve(conn);
    });
    s.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const handlers = {
  async open(args: OpenArgs): Promise<OpenResult> {
    const tokens: (string | undefined)[] = [];
    if (args.auth) {
      const a = args.auth;
      for (let i = 0; i < args.count; i++)
        tokens.push(await signToken({ secret: a.secret, sub: `${a.subPrefix}${i}`, workspace: a.workspace, scopes: a.scopes, ttl: '2h' }));
      token0 = tokens[0];
    }
    const startedAt = wallNow();
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const opened: Conn[] = [];
    const lane = async () => {
      while (next < args.count) {
        const i = next++;
        try {
          opened.push(await (args.kind === 'socketio' ? openSocketIo(i, args) : openWs(i, args, tokens[i])));
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(args.count, args.concurrency ?? 64) }, lane));
    const endedAt = wallNow();
    conns.push(...opened.sort((a, b) => a.index - b.index));
    return { startedAt, endedAt, opened: opened.length, failed, ...(firstError ? { firstError } : {}) };
  },

  /** runcast: subscribe every connection to `runId` after `fromSeq`; resolves when every ack arrived. */
  async subscribe(args: { runId: string; fromSeq: number }): Promise<{ ms: number }> {
    const t0 = wallNow();
    await Promise.all(
      conns.map((c) => {
        const id = `sub-${c.index}`;
        const r = reply(c, id);
        c.send(JSON.stringify({ type: 'subscribe', id, runId: args.runId, fromSeq: args.fromSeq }));
        return r.then((m) => {
          if (m.type !== 'ack') throw new Error(`subscribe refused: ${JSON.stringify(m)}`);
        });
      }),
    );
    return { ms: wallNow() - t0 };
  },

  /** Resolves once no frame arrived for `ms` (e.g. after the presence messages of a join). */
  async quiet(args: { ms: number; timeoutMs: number }): Promise<{ waitedMs: number }> {
    const t0 = wallNow();
    while (wallNow() - lastFrameAt < args.ms) {
      if (wallNow() - t0 > args.timeoutMs) break;
      await new Promise((r) => setTimeout(r, Math.max(10, args.ms / 4)));
    }
    return { waitedMs: wallNow() - t0 };
  },

  /** Start a measurement window: frames with seq > minSeq count; each connection expects `expect` of them. */
  arm(args: { minSeq: number; expect: number }): null {
    for (const c of conns) c.got = 0;
    win = {
      minSeq: args.minSeq,
      expect: args.expect,
      latencies: new Samples(Math.max(1, args.expect * conns.length)),
      firstSentAt: Infinity,
      lastSentAt: 0,
      lastReceivedAt: 0,
      done: 0,
    };
    return null;
  },

  /** Wait until every connection has its frames (or `timeoutMs`, or every connection closed). */
  async collect(args: { timeoutMs: number }): Promise<CollectResult> {
    const w = win;
    if (!w) throw new Error('collect before arm');
    if (w.done < conns.length) {
      await new Promise<void>((resolve) => {
        const end = () => {
          clearTimeout(timer);
          clearInterval(poll);
          w.finished = undefined;
          resolve();
        };
        const timer = setTimeout(end, args.timeoutMs);
        // A connection closed by the server (e.g. 4008) never completes: stop waiting for it.
        const poll = setInterval(() => {
          if (conns.every((c) => c.closed || c.got >= w.expect)) end();
        }, 100);
        w.finished = end;
      });
    }
    win = null;
    return {
      received: w.latencies.length,
      expected: w.expect * conns.length,
      complete: w.done === conns.length,
      latencies: w.latencies.toArray(),
      firstSentAt: w.firstSentAt,
      lastSentAt: w.lastSentAt,
      lastReceivedAt: w.lastReceivedAt,
      closedEarly: conns.filter((c) => c.closed).length,
      closeCodes: [...new Set(conns.filter((c) => c.closed).map((c) => c.closeCode ?? 0))],
    };
  },

  /** runcast: every connection starts its own run of `workflowId` at once and follows it to its end. */
  async runs(args: { workflowId: string; input: unknown; timeoutMs: number }): Promise<RunsResult> {
    const latencies = new Samples(conns.length * 32);
    const doneAt = new Float64Array(conns.length).fill(NaN);
    const failures: string[] = [];
    let events = 0;
    const runIds: (string | undefined)[] = [];
    const sentAt = wallNow();
    await Promise.all(
      conns.map(
        (c, i) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              failures.push(`run on connection ${c.index} did not end within ${args.timeoutMs} ms`);
              finish();
            }, args.timeoutMs);
            const finish = () => {
              clearTimeout(timer);
              c.onEvent = undefined;
              resolve();
            };
            c.onEvent = (h, at) => {
              events++;
              latencies.push(at - h.sentAt);
              if (h.kind.startsWith('run.') && h.kind !== 'run.started') {
                doneAt[i] = at;
                if (h.kind !== 'run.completed') failures.push(`run ended with ${h.kind}`);
                finish();
              }
            };
            const id = `run-${c.index}`;
            reply(c, id, args.timeoutMs).then(
              (m) => {
                if (m.type === 'ack') runIds[i] = String(m.runId);
                else {
                  failures.push(`run refused: ${JSON.stringify(m).slice(0, 200)}`);
                  finish();
                }
              },
              () => undefined,
            );
            c.send(JSON.stringify({ type: 'run', id, workflowId: args.workflowId, input: args.input }));
          }),
      ),
    );
    // Release the subscriptions of ended runs (a connection may hold MAX_SUBSCRIPTIONS), untimed.
    await Promise.all(
      conns.map((c, i) => {
        const runId = runIds[i];
        if (runId === undefined || c.closed) return undefined;
        const id = `unsub-${c.index}`;
        const r = reply(c, id).catch(() => undefined);
        c.send(JSON.stringify({ type: 'unsubscribe', id, runId }));
        return r;
      }),
    );
    return { sentAt, doneAt, events, latencies: latencies.toArray(), failures };
  },

  /** runcast: one realtime run on the first connection: from `run` sent to the terminal event received. */
  async runOnce(args: { workflowId: string; input: unknown }): Promise<{ ms: number; events: number; latencies: Float64Array }> {
    const r = await handlers.runs({ workflowId: args.workflowId, input: args.input, timeoutMs: 120_000 });
    if (r.failures.length) throw new Error(r.failures.join('; '));
    return { ms: r.doneAt[0]! - r.sentAt, events: r.events, latencies: r.latencies };
  },

  /** Standard execution: `POST /v1/runs`, from the request to the whole response (kept-alive connection). */
  async standardOnce(args: { httpUrl: string; workflowId: string; input: unknown }): Promise<{ ms: number }> {
    const body = JSON.stringify({ workflowId: args.workflowId, input: args.input });
    const t0 = wallNow();
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        `${args.httpUrl}/v1/runs`,
        { method: 'POST', agent, headers: { authorization: `Bearer ${token0}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let s = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (s += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(s) : reject(new Error(`POST /v1/runs: ${res.statusCode} ${s}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const ms = wallNow() - t0;
    if (!text.includes('"status":"succeeded"')) throw new Error(`standard run did not succeed: ${text.slice(0, 200)}`);
    return { ms };
  },

  /** CPU time of this load generator (all threads) since the previous call, in ms. */
  cpu(): { ms: number } {
    const d = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    return { ms: (d.user + d.system) / 1000 };
  },

  async closeAll(): Promise<null> {
    const all = conns;
    conns = [];
    await Promise.all(all.map((c) => c.close()));
    return null;
  },
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

serveCommands(handlers as unknown as Record<string, (a: never) => unknown>, async () => {
  await handlers.closeAll();
});
