/**
 * The client library against the real server (port 0, real sockets): running and
 * following runs, late subscribers, resume after a dropped connection, cancel,
 * breakpoints, presence, token refresh, and errors surfaced as ClientError.
 */
import WebSocket from 'ws';
import { createClient, ClientError, type RuncastClient, type ClientOptions, type ClientStatus } from '../../src/client';
import type { EventFrame } from '../../src/protocol/events';
import type { WorkflowDefinition } from '../../src/protocol/workflow';
import { startTestServer, type TestServer } from '../helpers/server';
import { deferred } from '../helpers/waiter';

const delays = (n: number, ms: number): WorkflowDefinition => {
  const ids = Array.from({ length: n }, (_, i) => `wait${i + 1}`);
  return {
    id: 'delays',
    name: 'Delays',
    nodes: [
      { id: 'start', type: 'api.start', config: { method: 'GET', path: '/delays' } },
      ...ids.map((id) => ({ id, type: 'delay', config: { ms } })),
      { id: 'respond', type: 'api.response', config: { status: 201, body: { ok: true } } },
    ],
    edges: ['start', ...ids, 'respond'].slice(1).map((to, i, all) => ({ from: i === 0 ? 'start' : all[i - 1]!, to })),
  };
};

const failing: WorkflowDefinition = {
  id: 'failing',
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'POST', path: '/fail' } },
    { id: 'boom', type: 'logic', config: { code: 'throw new Error("boom")' } },
    { id: 'respond', type: 'api.response', config: { status: 200, body: {} } },
  ],
  edges: [
    { from: 'start', to: 'boom' },
    { from: 'boom', to: 'respond' },
  ],
};

let server: TestServer;
const clients: RuncastClient[] = [];

function client(options: Partial<ClientOptions> & { token: ClientOptions['token'] }): RuncastClient {
  const c = createClient({ url: server.wsUrl, WebSocket: WebSocket as unknown as ClientOptions['WebSocket'], reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, ...options });
  clients.push(c);
  return c;
}

async function all(handle: AsyncIterable<EventFrame>): Promise<EventFrame[]> {
  const frames: EventFrame[] = [];
  for await (const f of handle) frames.push(f);
  return frames;
}

const seqs = (frames: EventFrame[]) => frames.map((f) => f.seq);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

beforeAll(async () => {
  server = await startTestServer({ workflows: [{ ...delays(2, 5), id: 'deployed-delays', workspace: 'acme' }] });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server.close();
});

describe('createClient', () => {
  it('runs an inline workflow and iterates its events to the terminal one', async () => {
    const c = client({ token: await server.token() });
    const handle = await c.run({ workflow: delays(2, 5), input: { method: 'GET', path: '/delays' } });
    expect(handle.runId).toEqual(expect.any(String));
    const frames = await all(handle);
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    expect(frames[0]!.event.kind).toBe('run.started');
    const last = frames[frames.length - 1]!;
    expect(last.event).toMatchObject({ kind: 'run.completed', response: { status: 201, body: { ok: true } } });
    expect(frames.filter((f) => f.event.kind === 'node.completed').map((f) => (f.event as { nodeId: string }).nodeId)).toEqual([
      'start',
      'wait1',
      'wait2',
      'respond',
    ]);
    await expect(handle.done).resolves.toBe(last);
    expect(handle.lastSeq).toBe(last.seq);
  });

  it('runs a deployed workflow by id', async () => {
    const c = client({ token: await server.token() });
    const handle = await c.run({ workflowId: 'deployed-delays' });
    const terminal = await handle.done;
    expect(terminal.event.kind).toBe('run.completed');
  });

  it('gives a late subscriber the full history, frame for frame', async () => {
    const c = client({ token: await server.token() });
    const handle = await c.run({ workflow: delays(1, 1) });
    const received: string[] = [];
    for await (const r of handle.received()) received.push(r.raw);

    const late = client({ token: await server.token({ sub: 'bob', scopes: ['runs:watch'] }) });
    const watched = await late.subscribe(handle.runId);
    const replay: string[] = [];
    for await (const r of watched.received()) replay.push(r.raw);
    expect(replay).toEqual(received);

    const tail = await late.subscribe(handle.runId + '');
    expect(tail).toBe(watched); // one handle per followed run
    const fromThree = client({ token: await server.token() });
    const partial = await all(await fromThree.subscribe(handle.runId, { fromSeq: 3 }));
    expect(seqs(partial)).toEqual(oneTo(received.length).slice(3));
  });

  it('resumes after the connection drops mid-run: every seq exactly once, in order', async () => {
    const statuses: ClientStatus[] = [];
    const c = client({ token: await server.token(), onStatus: (s) => statuses.push(s) });
    const handle = await c.run({ workflow: delays(6, 40) });
    const frames: EventFrame[] = [];
    let dropped = false;
    for await (const f of handle) {
      frames.push(f);
      if (!dropped && f.seq === 3) {
        dropped = true;
        c._debugDropConnection();
      }
    }
    expect(dropped).toBe(true);
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    expect(frames.length).toBeGreaterThan(10); // run.started + 8 nodes × 2 + terminal
    expect(frames[frames.length - 1]!.event.kind).toBe('run.completed');
    expect(c.stats.reconnects).toBe(1);
    expect(statuses).toEqual(['connecting', 'ready', 'reconnecting', 'reconnecting', 'ready']);
  });

  it('resumes several runs at once, and one it started and one it subscribed to', async () => {
    const c = client({ token: await server.token() });
    const other = client({ token: await server.token() });
    const a = await c.run({ workflow: delays(4, 30) });
    const started = await other.run({ workflow: delays(4, 30) });
    const b = await c.subscribe(started.runId);
    const first = await a[Symbol.asyncIterator]().next();
    expect(first.value?.seq).toBe(1);
    c._debugDropConnection();
    const [fa, fb] = await Promise.all([all(a), all(b)]);
    expect(seqs(fa)).toEqual(oneTo(fa.length));
    expect(seqs(fb)).toEqual(oneTo(fb.length));
    expect(fa[fa.length - 1]!.event.kind).toBe('run.completed');
    expect(fb[fb.length - 1]!.event.kind).toBe('run.completed');
  });

  it('cancels a run: the iterator ends with run.cancelled naming the skipped nodes', async () => {
    const c = client({ token: await server.token() });
    const handle = await c.run({ workflow: delays(1, 20_000) });
    const frames: EventFrame[] = [];
    for await (const f of handle) {
      frames.push(f);
      if (f.event.kind === 'node.started' && f.event.nodeId === 'wait1') await handle.cancel();
    }
    const terminal = frames[frames.length - 1]!.event;
    expect(terminal).toMatchObject({ kind: 'run.cancelled', cancelledBy: 'alice', skippedNodeIds: ['respond'] });
  });

  it('pauses at a breakpoint, steps, and continues', async () => {
    const c = client({ token: await server.token() });
    const handle = await c.run({ workflow: delays(2, 1), breakpoints: ['wait1'] });
    const paused: string[] = [];
    for await (const f of handle) {
      if (f.event.kind !== 'node.paused') continue;
      paused.push(f.event.nodeId);
      // Step at the breakpoint (pause again before the next node), then run on.
      if (f.event.nodeId === 'wait1') await handle.continue({ step: true });
      else await c.continue(handle.runId);
    }
    expect(paused).toEqual(['wait1', 'wait2']);
    expect(handle.terminal?.event.kind).toBe('run.completed');
  });

  it('reports a failed run with the failing node and the skipped ones', async () => {
    const c = client({ token: await server.token() });
    const handle = await c.run({ workflow: failing, input: { method: 'POST', path: '/fail' } });
    const terminal = await handle.done;
    expect(terminal.event).toMatchObject({ kind: 'run.failed', failedNodeId: 'boom', skippedNodeIds: ['respond'] });
  });

  it('announces presence: two viewers of one paused run', async () => {
    const c = client({ token: await server.token() });
    const handle = await c.run({ workflow: delays(1, 1), breakpoints: ['wait1'] });
    const two = deferred<number>();
    handle.onPresence((n) => n === 2 && two.resolve(n));
    const watcher = client({ token: await server.token({ sub: 'bob' }) });
    const watched = await watcher.subscribe(handle.runId);
    await expect(two.promise).resolves.toBe(2);
    await handle.continue();
    await Promise.all([handle.done, watched.done]);
  });

  it('answers ping', async () => {
    const c = client({ token: await server.token() });
    await expect(c.ping()).resolves.toEqual(expect.any(Number));
  });

  describe('errors', () => {
    it('rejects an invalid workflow with workflow_invalid and every problem', async () => {
      const c = client({ token: await server.token() });
      const bad = { id: 'bad', nodes: [{ id: 'start', type: 'api.start', config: { method: 'GET', path: '/x' } }, { id: 'x', type: 'no.such.type' }], edges: [{ from: 'start', to: 'x' }] };
      const err = await c.run({ workflow: bad as WorkflowDefinition }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ code: 'workflow_invalid' });
      expect((err as ClientError).details).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.any(String), message: expect.any(String) })]));
    });

    it('rejects an unknown run with not_found, and a missing scope with forbidden', async () => {
      const c = client({ token: await server.token({ scopes: ['runs:watch'] }) });
      await expect(c.subscribe('no-such-run')).rejects.toMatchObject({ name: 'ClientError', code: 'not_found' });
      await expect(c.run({ workflow: delays(1, 1) })).rejects.toMatchObject({ code: 'forbidden' });
      // The connection stays usable after refused requests.
      await expect(c.ping()).resolves.toEqual(expect.any(Number));
    });

    it('hides another workspace’s run as not_found', async () => {
      const c = client({ token: await server.token() });
      const handle = await c.run({ workflow: delays(1, 1) });
      await handle.done;
      const stranger = client({ token: await server.token({ workspace: 'other' }) });
      await expect(stranger.subscribe(handle.runId)).rejects.toMatchObject({ code: 'not_found' });
    });

    it('gives up on a bad token with unauthorized (4401) instead of reconnecting', async () => {
      const statuses: ClientStatus[] = [];
      const c = client({ token: 'not-a-jwt', onStatus: (s) => statuses.push(s) });
      const err = await c.ready().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ code: 'unauthorized', closeCode: 4401 });
      await expect(c.run({ workflow: delays(1, 1) })).rejects.toMatchObject({ code: 'unauthorized' });
      expect(statuses).toEqual(['connecting', 'closed']);
    });

    it('fails with connection_failed when nothing listens', async () => {
      const c = createClient({ url: 'ws://127.0.0.1:1/v1/ws', token: 'x', WebSocket: WebSocket as unknown as ClientOptions['WebSocket'] });
      clients.push(c);
      await expect(c.ready()).rejects.toMatchObject({ code: 'connection_failed' });
    });
  });

  describe('tokens', () => {
    it('fetches a fresh token once after a 4401 and carries on', async () => {
      const good = await server.token();
      const given: string[] = [];
      const c = client({ token: () => (given.push(given.length ? good : 'expired-or-bad'), given[given.length - 1]!) });
      await expect(c.ready()).resolves.toMatchObject({ type: 'ready', user: 'alice' });
      expect(given).toEqual(['expired-or-bad', good]);
      await expect(c.ping()).resolves.toEqual(expect.any(Number));
    });

    it('refreshes the token before it expires, keeping the connection and its runs', async () => {
      let calls = 0;
      const refreshed = deferred();
      const c = client({
        token: async () => {
          calls++;
          if (calls === 2) refreshed.resolve();
          return server.token({ ttl: calls === 1 ? '4s' : '1h' });
        },
      });
      // The run outlives the first token: without a refresh the server closes with 4401 at its exp.
      const handle = await c.run({ workflow: delays(1, 4_500) });
      await refreshed.promise;
      const frames = await all(handle);
      expect(frames[frames.length - 1]!.event.kind).toBe('run.completed');
      expect(seqs(frames)).toEqual(oneTo(frames.length));
      expect(c.stats.reconnects).toBe(0);
      expect(calls).toBe(2);
    });
  });

  describe('#close', () => {
    it('ends the iterators of unfinished runs with a closed ClientError', async () => {
      const c = client({ token: await server.token() });
      const handle = await c.run({ workflow: delays(1, 20_000) });
      const iterating = all(handle);
      const first = await handle[Symbol.asyncIterator]().next();
      expect(first.done).toBe(false);
      c.close();
      await expect(iterating).rejects.toMatchObject({ code: 'closed' });
      await expect(c.ping()).rejects.toMatchObject({ code: 'closed' });
      // Tidy up the run (it would otherwise hold the test server's shutdown grace).
      const other = client({ token: await server.token() });
      await other.cancel(handle.runId);
    });
  });
});
