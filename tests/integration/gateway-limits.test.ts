/**
 * Every limit at its edge, over real sockets: frame size (1009), rate limit (4429),
 * subscriptions per connection, connections per user, slow consumers (4008) and their
 * resume, large values and their refs, history expiry, and the graceful shutdown (1001).
 */
import { connect, type WsTestClient } from '../helpers/ws-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { looping, slow } from '../fixtures/workflows';

const isEvent = (runId: string) => (m: any) => m.type === 'event' && m.runId === runId;
const terminal = (m: any) => ['run.completed', 'run.failed', 'run.cancelled'].includes(m.event?.kind);

async function withServer(env: Record<string, string>, body: (s: TestServer) => Promise<void>) {
  const server = await startTestServer({ env });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

async function ready(server: TestServer, opts: { sub?: string } = {}): Promise<WsTestClient> {
  const c = await connect(server.wsUrl, { token: await server.token(opts) });
  await c.next('ready');
  return c;
}

describe('gateway limits', () => {
  it('closes with 1009 a frame over MAX_MESSAGE_BYTES, and takes one just under it', () =>
    withServer({ MAX_MESSAGE_BYTES: '2048' }, async (server) => {
      const c = await ready(server);
      const pad = (n: number) => JSON.stringify({ type: 'ping', id: 'p', pad: 'x'.repeat(n) });
      const base = pad(0).length;
      c.send(pad(2048 - base)); // exactly 2048 bytes: accepted (and refused as invalid_message for the extra field)
      expect(await c.next('error')).toMatchObject({ code: 'invalid_message' });
      c.send(pad(2049 - base));
      expect((await c.closed).code).toBe(1009);
    }));

  it('closes with 4429 a connection that passes the rate limit', () =>
    withServer({ RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '5' }, async (server) => {
      const c = await ready(server);
      for (let i = 0; i < 10; i++) c.send({ type: 'ping', id: `p${i}` });
      const pongs = await c.collect('pong', (m) => m.id === 'p4');
      expect(pongs).toHaveLength(5);
      expect(await c.next('error')).toMatchObject({ code: 'rate_limited' });
      expect((await c.closed).code).toBe(4429);
    }));

  it('refuses a subscription over MAX_SUBSCRIPTIONS with too_many_subscriptions', () =>
    withServer({ MAX_SUBSCRIPTIONS: '1' }, async (server) => {
      const c = await ready(server);
      c.send({ type: 'run', id: 'a', workflow: slow(25_000) });
      const { runId } = await c.next('ack');
      c.send({ type: 'run', id: 'b', workflow: slow(1) });
      expect(await c.next('error')).toMatchObject({ id: 'b', code: 'too_many_subscriptions' });
      // Subscribing again to the same run replaces the subscription: no new slot needed.
      c.send({ type: 'subscribe', id: 'again', runId, fromSeq: 0 });
      expect(await c.next((m) => m.id === 'again')).toMatchObject({ type: 'ack' });
      c.send({ type: 'cancel', id: 'c', runId });
      await c.next((m) => isEvent(runId)(m) && terminal(m));
      // A run that ended frees its subscription: the next run is taken.
      c.send({ type: 'run', id: 'd', workflow: slow(1) });
      const { runId: next } = await c.next((m) => m.type === 'ack' && m.id === 'd');
      expect((await c.next((m) => isEvent(next)(m) && terminal(m))).event.kind).toBe('run.completed');
      await c.close();
    }));

  it('closes with 4429 a connection over MAX_CONNECTIONS_PER_USER', () =>
    withServer({ MAX_CONNECTIONS_PER_USER: '2' }, async (server) => {
      const a = await ready(server);
      const b = await ready(server);
      const c = await connect(server.wsUrl, { token: await server.token() });
      expect((await c.closed).code).toBe(4429);
      const other = await ready(server, { sub: 'bob' });
      await a.close();
      const d = await ready(server); // a slot was freed
      await Promise.all([b.close(), d.close(), other.close()]);
    }));

  it('closes a slow consumer with 4008 without holding the run back, and the viewer resumes with fromSeq', () =>
    withServer({ SLOW_CONSUMER_BYTES: '1048576' }, async (server) => {
      const token = await server.token();
      const starter = await ready(server);
      const slowViewer = await ready(server);
      // The slow viewer stops reading from its TCP socket (ws would resume a plain
      // pause() after each message, so resume is held back until the test allows it).
      const tcp = (slowViewer.ws as any)._socket;
      const resume = tcp.resume.bind(tcp);
      tcp.resume = () => tcp;
      tcp.pause();
      starter.send({ type: 'run', id: 'big', workflow: looping(300, 60000) });
      const { runId } = await starter.next('ack');
      slowViewer.send({ type: 'subscribe', id: 'slow', runId });
      const all = await starter.collect(isEvent(runId), terminal, 30_000);
      expect(all.at(-1).event.kind).toBe('run.completed');
      tcp.resume = resume;
      tcp.resume();
      expect((await slowViewer.closed).code).toBe(4008);
      const seen = slowViewer.frames.filter(isEvent(runId));
      expect(seen.length).toBeLessThan(all.length);
      const last = seen.length ? seen.at(-1).seq : 0;
      const back = await connect(server.wsUrl, { token });
      await back.next('ready');
      back.send({ type: 'subscribe', id: 'resume', runId, fromSeq: last });
      const rest = await back.collect(isEvent(runId), terminal, 30_000);
      expect([...seen, ...rest].map((f) => f.seq)).toEqual(all.map((f) => f.seq));
      const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/runcast_ws_slow_consumer_disconnects_total 1/);
      await Promise.all([starter.close(), back.close()]);
    }));

  it('replaces values over MAX_FIELD_BYTES by a marker whose ref serves the whole value', () =>
    withServer({ MAX_FIELD_BYTES: '1024' }, async (server) => {
      const c = await ready(server);
      c.send({ type: 'run', id: 'r', workflow: looping(2, 2000) });
      const { runId } = await c.next('ack');
      const frames = await c.collect(isEvent(runId), terminal);
      const body = frames.find((f) => f.event.kind === 'node.completed' && f.event.nodeId === 'body');
      const marker = body.event.output;
      expect(marker).toEqual({ $truncated: true, bytes: expect.any(Number), preview: expect.any(String), ref: expect.any(String) });
      expect(marker.preview.length).toBe(1024);
      const small = frames.find((f) => f.event.kind === 'node.completed' && f.event.nodeId === 'start');
      expect(small.event.output.$truncated).toBeUndefined();
      const res = await fetch(`${server.httpUrl}/v1/runs/${runId}/values/${marker.ref}`, { headers: { authorization: `Bearer ${await server.token()}` } });
      expect(res.status).toBe(200);
      const whole = (await res.json()) as any;
      expect(whole).toEqual({ i: 0, pad: 'x'.repeat(2000) });
      expect(JSON.stringify(whole).length).toBe(marker.bytes);
      const other = await fetch(`${server.httpUrl}/v1/runs/${runId}/values/${marker.ref}`, { headers: { authorization: `Bearer ${await server.token({ workspace: 'globex' })}` } });
      expect(other.status).toBe(404);
      await c.close();
    }));

  it('cancels a run left paused longer than MAX_PAUSE_MS', () =>
    withServer({ MAX_PAUSE_MS: '300' }, async (server) => {
      const c = await ready(server);
      c.send({ type: 'run', id: 'r', workflow: slow(1), breakpoints: ['wait'] });
      const { runId } = await c.next('ack');
      await c.next((m) => isEvent(runId)(m) && m.event.kind === 'node.paused');
      const end = await c.next((m) => isEvent(runId)(m) && terminal(m));
      expect(end.event).toMatchObject({ kind: 'run.cancelled', cancelledBy: 'system:pause-timeout', skippedNodeIds: ['wait', 'last', 'respond'] });
      await c.close();
    }));

  it('stops a run at MAX_RUN_EVENTS with limit_exceeded', () =>
    withServer({ MAX_RUN_EVENTS: '20' }, async (server) => {
      const c = await ready(server);
      c.send({ type: 'run', id: 'r', workflow: looping(50) });
      const { runId } = await c.next('ack');
      const frames = await c.collect(isEvent(runId), terminal);
      expect(frames.at(-1).event).toMatchObject({ kind: 'run.failed', error: { code: 'limit_exceeded' } });
      expect(frames.length).toBeLessThanOrEqual(20);
      expect(frames.find((f) => f.event.kind === 'node.failed').event.error.code).toBe('limit_exceeded');
      await c.close();
    }));

  it('answers history_expired once HISTORY_TTL_MS has passed after the end', () =>
    withServer({ HISTORY_TTL_MS: '200', RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' }, async (server) => {
      const c = await ready(server);
      c.send({ type: 'run', id: 'r', workflow: slow(1) });
      const { runId } = await c.next('ack');
      await c.collect(isEvent(runId), terminal);
      // Poll the subscription until the history is gone (a bounded loop, not a sleep).
      let answer: any;
      for (let i = 0; i < 200; i++) {
        c.send({ type: 'subscribe', id: `s${i}`, runId });
        answer = await c.next((m) => m.id === `s${i}` && (m.type === 'error' || m.type === 'ack'));
        if (answer.type === 'error') break;
        c.send({ type: 'unsubscribe', id: `u${i}`, runId });
        await c.next((m) => m.id === `u${i}`);
        await c.next((m) => m.type === 'event' && m.runId === runId && terminal(m));
      }
      expect(answer).toMatchObject({ type: 'error', code: 'history_expired' });
      await c.close();
    }));

  it('lets in-flight runs end on shutdown, then closes viewers with 1001', async () => {
    const server = await startTestServer({ env: { SHUTDOWN_GRACE_MS: '10000' } });
    const c = await ready(server);
    c.send({ type: 'run', id: 'r', workflow: slow(300) });
    const { runId } = await c.next('ack');
    await c.next((m) => isEvent(runId)(m) && m.event.kind === 'node.started' && m.event.nodeId === 'wait');
    const closing = server.close();
    // While draining, new runs are refused with a clear error.
    c.send({ type: 'run', id: 'late', workflow: slow(1) });
    expect(await c.next((m) => m.id === 'late')).toMatchObject({ type: 'error', code: 'unavailable' });
    const end = await c.next((m) => isEvent(runId)(m) && terminal(m));
    expect(end.event.kind).toBe('run.completed');
    expect((await c.closed).code).toBe(1001);
    await closing;
  });

  it('cancels runs that outlive the shutdown grace period', async () => {
    const server = await startTestServer({ env: { SHUTDOWN_GRACE_MS: '100' } });
    const c = await ready(server);
    c.send({ type: 'run', id: 'r', workflow: slow(25_000) });
    const { runId } = await c.next('ack');
    await c.next((m) => isEvent(runId)(m) && m.event.kind === 'node.started' && m.event.nodeId === 'wait');
    const closing = server.close();
    const end = await c.next((m) => isEvent(runId)(m) && terminal(m));
    expect(end.event).toMatchObject({ kind: 'run.cancelled', cancelledBy: 'system:shutdown' });
    expect((await c.closed).code).toBe(1001);
    await closing;
  });
});
