/**
 * The client's connection logic against a scripted in-memory WebSocket: the cases a
 * real server does not produce on demand (duplicate and out-of-order frames, a
 * request in flight when the socket drops, close codes). The real server is the
 * subject of tests/integration/client.test.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { backoffDelay, createClient, decodeJwtPayload, refreshDelay, ClientError, type RuncastClient, type WebSocketLike, type ClientStatus, type ClientOptions } from '../../../src/client';
import type { EventFrame } from '../../../src/protocol/events';
import { eventually } from '../../helpers/waiter';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sent = any;

class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Sent[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  constructor(readonly url: string, readonly protocols?: string | string[]) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
  // --- driven by the test
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
  }
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  last(type: string): Sent {
    const found = [...this.sent].reverse().find((m) => m.type === type);
    if (!found) throw new Error(`no ${type} sent; sent: ${JSON.stringify(this.sent)}`);
    return found;
  }
}

const b64url = (obj: unknown) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const jwt = (payload: Record<string, unknown>) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}.sig`;
const ready = { type: 'ready', connectionId: 'c', user: 'alice', workspace: 'acme', scopes: ['runs:execute', 'runs:watch'], heartbeatMs: 30_000, maxMessageBytes: 1 << 20 };
const frame = (runId: string, seq: number, kind: string, extra: Record<string, unknown> = {}) => ({
  type: 'event',
  runId,
  seq,
  time: new Date(0).toISOString(),
  event: { kind, ...extra },
});

const clients: RuncastClient[] = [];
function client(options: Partial<ClientOptions> = {}): RuncastClient {
  const c = createClient({
    url: 'ws://test/v1/ws',
    token: 'static-token',
    WebSocket: FakeSocket,
    reconnect: { initialDelayMs: 1, maxDelayMs: 2 },
    keepAliveMs: false,
    ...options,
  });
  clients.push(c);
  return c;
}

/** The nth socket the client opened, once it exists. */
const socket = (n: number) => eventually(() => FakeSocket.all[n], { label: `socket #${n}` });

/** Open socket n and answer its auth with ready. */
async function accept(n: number): Promise<FakeSocket> {
  const s = await socket(n);
  s.open();
  expect(s.sent[0]).toMatchObject({ type: 'auth' });
  s.receive(ready);
  return s;
}

async function collect(iterable: AsyncIterable<EventFrame>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const f of iterable) seqs.push(f.seq);
  return seqs;
}

beforeEach(() => {
  FakeSocket.all = [];
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('decodeJwtPayload', () => {
  it('decodes a base64url payload, including non-ASCII text', () => {
    expect(decodeJwtPayload(jwt({ sub: 'zoë', exp: 5 }))).toEqual({ sub: 'zoë', exp: 5 });
  });
  it.each([['not-a-jwt'], ['a.b.c'], ['a.' + Buffer.from('[1]').toString('base64url') + '.c'], ['']])('returns null for %j', (token) => {
    expect(decodeJwtPayload(token)).toBeNull();
  });
});

describe('refreshDelay', () => {
  const now = 1_000_000_000_000;
  it('refreshes 60 s before exp for a long-lived token', () => {
    expect(refreshDelay(jwt({ iat: now / 1000, exp: now / 1000 + 3600 }), now)).toBe(3_540_000);
  });
  it('refreshes a tenth of the life before exp for a short-lived token', () => {
    expect(refreshDelay(jwt({ iat: now / 1000, exp: now / 1000 + 30 }), now)).toBe(27_000);
  });
  it('is 0 for an expired token and null without exp', () => {
    expect(refreshDelay(jwt({ iat: now / 1000 - 100, exp: now / 1000 - 1 }), now)).toBe(0);
    expect(refreshDelay(jwt({ sub: 'x' }), now)).toBeNull();
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the ceiling, with jitter in [base/2, base]', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(4, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(20, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(20, 100, 10_000, () => 0)).toBe(5_000);
  });
});

describe('createClient', () => {
  it('offers runcast.v1 and authenticates with the auth first message', async () => {
    const c = client();
    const s = await socket(0);
    expect(s.protocols).toEqual(['runcast.v1']);
    s.open();
    expect(s.sent).toEqual([{ type: 'auth', token: 'static-token' }]);
    s.receive(ready);
    await expect(c.ready()).resolves.toMatchObject({ user: 'alice' });
  });

  it('queues requests until ready, then matches replies by id', async () => {
    const c = client();
    const ping = c.ping();
    const s = await socket(0);
    s.open();
    expect(s.sent.map((m: Sent) => m.type)).toEqual(['auth']);
    s.receive(ready);
    const sent = s.last('ping');
    s.receive({ type: 'pong', id: sent.id });
    await expect(ping).resolves.toEqual(expect.any(Number));
  });

  it('rejects with a ClientError carrying the code and details of an error reply', async () => {
    const c = client();
    const s = await accept(0);
    const run = c.run({ workflow: { id: 'x', nodes: [], edges: [] } });
    const details = [{ path: '/nodes', message: 'must have an api.start' }];
    s.receive({ type: 'error', id: s.last('run').id, code: 'workflow_invalid', message: 'invalid', details });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'workflow_invalid', details });
  });

  it('drops frames it delivered already and repairs a gap by resubscribing', async () => {
    const errors: string[] = [];
    const c = client({ onError: (e) => errors.push(e.code) });
    const s = await accept(0);
    const pending = c.subscribe('r1');
    s.receive({ type: 'ack', id: s.last('subscribe').id, runId: 'r1', lastSeq: 0 });
    const handle = await pending;
    const seqs = collect(handle);
    s.receive(frame('r1', 1, 'run.started'));
    s.receive(frame('r1', 2, 'node.started'));
    s.receive(frame('r1', 2, 'node.started')); // duplicate
    s.receive(frame('r1', 1, 'run.started')); // duplicate
    s.receive(frame('r1', 4, 'node.log')); // gap: 3 is missing
    const resub = s.last('subscribe');
    expect(resub).toMatchObject({ runId: 'r1', fromSeq: 2 });
    s.receive({ type: 'ack', id: resub.id, runId: 'r1', lastSeq: 4 });
    s.receive(frame('r1', 3, 'node.log'));
    s.receive(frame('r1', 4, 'node.log'));
    s.receive(frame('r1', 5, 'run.completed'));
    await expect(seqs).resolves.toEqual([1, 2, 3, 4, 5]);
    expect(c.stats).toEqual({ reconnects: 0, duplicatesDropped: 2, gapsRepaired: 1 });
    expect(errors).toEqual(['gap']);
  });

  it('reconnects after an abnormal close and resubscribes from the last delivered seq', async () => {
    const statuses: ClientStatus[] = [];
    const c = client({ onStatus: (st) => statuses.push(st) });
    const s0 = await accept(0);
    const running = c.run({ workflowId: 'wf' });
    s0.receive({ type: 'ack', id: s0.last('run').id, runId: 'r1' });
    const handle = await running;
    const seqs = collect(handle);
    s0.receive(frame('r1', 1, 'run.started'));
    s0.receive(frame('r1', 2, 'node.started'));
    s0.drop(1006);
    const s1 = await accept(1);
    const resub = s1.last('subscribe');
    expect(resub).toMatchObject({ type: 'subscribe', runId: 'r1', fromSeq: 2 });
    s1.receive({ type: 'ack', id: resub.id, runId: 'r1', lastSeq: 3 });
    s1.receive(frame('r1', 2, 'node.started')); // replayed by an overlapping server: dropped
    s1.receive(frame('r1', 3, 'run.completed'));
    await expect(seqs).resolves.toEqual([1, 2, 3]);
    expect(c.stats.reconnects).toBe(1);
    expect(statuses).toEqual(['connecting', 'ready', 'reconnecting', 'reconnecting', 'ready']);
  });

  it.each([[1001], [4008], [1011]])('resumes after close code %d', async (code) => {
    const c = client();
    const s0 = await accept(0);
    s0.drop(code);
    await accept(1);
    await expect(c.ready()).resolves.toMatchObject({ type: 'ready' });
  });

  it('fails a run request in flight when the socket drops, but sends a subscribe again', async () => {
    const c = client();
    const s0 = await accept(0);
    const run = c.run({ workflowId: 'wf' });
    const sub = c.subscribe('r9', { fromSeq: 4 });
    s0.drop(1006);
    await expect(run).rejects.toMatchObject({ code: 'connection_lost' });
    const s1 = await accept(1);
    const again = s1.last('subscribe');
    expect(again).toMatchObject({ runId: 'r9', fromSeq: 4 });
    s1.receive({ type: 'ack', id: again.id, runId: 'r9', lastSeq: 4 });
    await expect(sub).resolves.toMatchObject({ runId: 'r9', lastSeq: 4 });
  });

  it.each([
    [4401, 'unauthorized'],
    [4408, 'auth_timeout'],
    [4429, 'rate_limited'],
    [1009, 'message_too_large'],
  ])('gives up on close code %d (%s) with a static token', async (code, name) => {
    const c = client();
    const s0 = await accept(0);
    const handlePromise = c.subscribe('r1');
    s0.receive({ type: 'ack', id: s0.last('subscribe').id, runId: 'r1', lastSeq: 0 });
    const handle = await handlePromise;
    s0.drop(code, 'nope');
    await expect(c.ready()).rejects.toMatchObject({ code: name, closeCode: code });
    await expect(collect(handle)).rejects.toMatchObject({ code: name });
    expect(c.status).toBe('closed');
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('fetches a fresh token once after 4401, and gives up if that one is refused too', async () => {
    const tokens = ['t1', 't2', 't3'];
    const c = client({ token: () => tokens.shift()! });
    const s0 = await socket(0);
    s0.open();
    expect(s0.sent[0]).toEqual({ type: 'auth', token: 't1' });
    s0.drop(4401);
    const s1 = await socket(1);
    s1.open();
    expect(s1.sent[0]).toEqual({ type: 'auth', token: 't2' });
    s1.drop(4401);
    await expect(c.ready()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('sends auth again with a fresh token before the current one expires', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const nowS = Math.floor(Date.now() / 1000);
      const first = jwt({ iat: nowS, exp: nowS + 600 });
      const second = jwt({ iat: nowS, exp: nowS + 1200 });
      const given = [first, second];
      const c = client({ token: () => given.shift()! });
      const s = await accept(0);
      expect(s.sent[0]).toEqual({ type: 'auth', token: first });
      await jest.advanceTimersByTimeAsync(539_000);
      expect(s.sent.filter((m: Sent) => m.type === 'auth')).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(2_000);
      expect(s.sent.filter((m: Sent) => m.type === 'auth')).toEqual([
        { type: 'auth', token: first },
        { type: 'auth', token: second },
      ]);
      s.receive({ ...ready, connectionId: 'c' }); // the server confirms the refresh
      expect(c.status).toBe('ready');
      expect(c.stats.reconnects).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('drops a connection whose ping went unanswered, then resumes', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const c = client({ keepAliveMs: 1_000 });
      const s0 = await accept(0);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(s0.last('ping')).toBeDefined();
      await jest.advanceTimersByTimeAsync(1_000); // no pong
      expect(s0.closedWith).toMatchObject({ code: 4000 });
      await jest.advanceTimersByTimeAsync(10);
      await accept(1);
      await expect(c.ready()).resolves.toMatchObject({ type: 'ready' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('delivers presence to the run handle', async () => {
    const c = client();
    const s = await accept(0);
    const pending = c.subscribe('r1');
    s.receive({ type: 'ack', id: s.last('subscribe').id, runId: 'r1', lastSeq: 0 });
    const handle = await pending;
    const seen: number[] = [];
    handle.onPresence((n) => seen.push(n));
    s.receive({ type: 'presence', runId: 'r1', viewers: 2 });
    s.receive({ type: 'presence', runId: 'other', viewers: 5 });
    expect(seen).toEqual([2]);
    expect(handle.viewers).toBe(2);
  });

  it('ends every iterator with a closed error on close()', async () => {
    const c = client();
    const s = await accept(0);
    const pending = c.subscribe('r1');
    s.receive({ type: 'ack', id: s.last('subscribe').id, runId: 'r1', lastSeq: 0 });
    const handle = await pending;
    const seqs = collect(handle);
    c.close();
    await expect(seqs).rejects.toMatchObject({ code: 'closed' });
    expect(s.closedWith).toEqual({ code: 1000, reason: 'client closed' });
  });
});

describe('src/client', () => {
  it('is browser-safe: no node: imports, no ws', () => {
    const dir = path.resolve(__dirname, '../../../src/client');
    for (const name of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, name), 'utf8');
      const imports = [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gm)];
      for (const [, typeOnly, spec] of imports) {
        expect(`${name}: ${spec}`).not.toMatch(/: (node:|ws$|fs$|path$)/);
        if (!typeOnly && name === 'client.ts') throw new Error(`client.ts must import types only (it is inlined into the console): ${spec}`);
      }
    }
  });
});
