/**
 * Runs over the WebSocket (PROTOCOL.md sections 3-5): run, subscribe with history and
 * fromSeq, several viewers and late joiners, presence, cancel, breakpoints and steps,
 * workspaces and scopes, malformed frames.
 */
import { connect, type WsTestClient } from '../helpers/ws-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, looping, slow } from '../fixtures/workflows';

const isEvent = (runId: string) => (m: any) => m.type === 'event' && m.runId === runId;
const terminal = (m: any) => ['run.completed', 'run.failed', 'run.cancelled'].includes(m.event?.kind);

function expectInvariants(frames: any[]) {
  expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
  expect(frames[0].event.kind).toBe('run.started');
  expect(frames.filter(terminal)).toHaveLength(1);
  expect(terminal(frames.at(-1))).toBe(true);
  for (const f of frames) expect(new Date(f.time).toISOString()).toBe(f.time);
}

describe('runs over the WebSocket', () => {
  let server: TestServer;
  let token: string;
  const open: WsTestClient[] = [];
  const client = async (opts: { sub?: string; workspace?: string; scopes?: string[] } = {}) => {
    const c = await connect(server.wsUrl, { token: await server.token(opts) });
    await c.next('ready');
    open.push(c);
    return c;
  };
  const start = async (c: WsTestClient, msg: object, id = 'run-1') => {
    c.send({ type: 'run', id, ...msg });
    const ack = await c.next((m) => (m.type === 'ack' || m.type === 'error') && m.id === id);
    if (ack.type === 'error') throw new Error(JSON.stringify(ack));
    return ack.runId as string;
  };

  beforeAll(async () => {
    server = await startTestServer({ workflows: [{ ...createUser, workspace: 'acme' }] });
    token = await server.token();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(() => server.close());

  it('acks a run, then streams every event in order with the terminal event last', async () => {
    const c = await client();
    c.send({ type: 'run', id: 'r1', workflow: createUser, input: { body: { email: 'x@y.io' } } });
    const ack = await c.next('ack');
    expect(ack).toEqual({ type: 'ack', id: 'r1', runId: expect.any(String) });
    const frames = await c.collect(isEvent(ack.runId), terminal);
    expectInvariants(frames);
    // The ack comes before the first event.
    expect(c.frames.findIndex((f) => f.type === 'ack')).toBeLessThan(c.frames.findIndex((f) => f.type === 'event'));
    expect(frames.at(-1).event).toMatchObject({ kind: 'run.completed', response: { status: 201 } });
    const started = frames.find((f) => f.event.kind === 'node.started' && f.event.nodeId === 'insert');
    expect(started.event).toMatchObject({ nodeType: 'database', input: { email: 'x@y.io' }, config: { data: { email: 'x@y.io' } } });
    const completed = frames.find((f) => f.event.kind === 'node.completed' && f.event.nodeId === 'insert');
    expect(completed.event.durationMs).toEqual(expect.any(Number));
  });

  it('runs a deployed workflow by id', async () => {
    const c = await client();
    const runId = await start(c, { workflowId: 'create-user', input: { body: { email: 'dep@y.io' } } });
    const frames = await c.collect(isEvent(runId), terminal);
    expect(frames.at(-1).event.kind).toBe('run.completed');
    expect(frames[0].event).toMatchObject({ workflowId: 'create-user', workflowName: 'Create user', startedBy: 'alice' });
  });

  it('gives several viewers and a late joiner the same events, and resumes from fromSeq', async () => {
    const a = await client();
    const b = await client();
    const runId = await start(a, { workflow: looping(20) });
    b.send({ type: 'subscribe', id: 's-b', runId });
    await b.next((m) => m.type === 'ack' && m.id === 's-b');
    const fa = await a.collect(isEvent(runId), terminal);
    const fb = await b.collect(isEvent(runId), terminal);
    expectInvariants(fa);
    expect(b.texts.filter((t) => t.startsWith('{"type":"event"'))).toEqual(a.texts.filter((t) => t.startsWith('{"type":"event"')));
    expect(fb).toEqual(fa);
    // A late joiner after the end gets the full history.
    const late = await client();
    late.send({ type: 'subscribe', id: 'late', runId });
    const ack = await late.next('ack');
    expect(ack).toEqual({ type: 'ack', id: 'late', runId, lastSeq: fa.length });
    expect(await late.collect(isEvent(runId), terminal)).toEqual(fa);
    // A viewer that saw up to seq 10 resumes with fromSeq 10.
    const resumed = await client();
    resumed.send({ type: 'subscribe', id: 'res', runId, fromSeq: 10 });
    await resumed.next('ack');
    const rest = await resumed.collect(isEvent(runId), terminal);
    expect(rest).toEqual(fa.slice(10));
  });

  it('gives a subscriber that joins mid-run every event exactly once', async () => {
    const a = await client();
    const runId = await start(a, { workflow: looping(200) });
    await a.next((m) => isEvent(runId)(m) && m.seq === 30);
    const b = await client();
    b.send({ type: 'subscribe', id: 'mid', runId, fromSeq: 0 });
    const fb = await b.collect(isEvent(runId), terminal, 20_000);
    expectInvariants(fb);
    await a.collect(isEvent(runId), terminal, 20_000);
    expect(b.texts.filter((t) => t.startsWith('{"type":"event"'))).toEqual(a.texts.filter((t) => t.startsWith('{"type":"event"')));
  });

  it('tells viewers how many watch a run', async () => {
    const a = await client();
    const runId = await start(a, { workflow: slow(25_000) }, 'p');
    expect(await a.next((m) => m.type === 'presence' && m.runId === runId)).toEqual({ type: 'presence', runId, viewers: 1 });
    const b = await client();
    b.send({ type: 'subscribe', id: 'pb', runId });
    expect(await b.next((m) => m.type === 'presence' && m.viewers === 2)).toEqual({ type: 'presence', runId, viewers: 2 });
    await a.next((m) => m.type === 'presence' && m.viewers === 2);
    await b.close();
    expect(await a.next((m) => m.type === 'presence')).toEqual({ type: 'presence', runId, viewers: 1 });
    a.send({ type: 'cancel', id: 'c', runId });
    await a.collect(isEvent(runId), terminal);
  });

  it('cancels a run during a long node', async () => {
    const c = await client();
    const runId = await start(c, { workflow: slow(25_000) });
    await c.next((m) => isEvent(runId)(m) && m.event.kind === 'node.started' && m.event.nodeId === 'wait');
    c.send({ type: 'cancel', id: 'stop', runId });
    expect(await c.next((m) => m.type === 'ack' && m.id === 'stop')).toEqual({ type: 'ack', id: 'stop', runId });
    const end = await c.next((m) => isEvent(runId)(m) && terminal(m));
    expect(end.event).toMatchObject({ kind: 'run.cancelled', cancelledBy: 'alice', skippedNodeIds: ['last', 'respond'] });
  });

  it('lets only the starter or a runs:cancel holder cancel', async () => {
    const owner = await client({ sub: 'owner', scopes: ['runs:execute', 'runs:watch'] });
    const runId = await start(owner, { workflow: slow(25_000) });
    const other = await client({ sub: 'other', scopes: ['runs:watch'] });
    other.send({ type: 'cancel', id: 'x', runId });
    expect(await other.next('error')).toMatchObject({ id: 'x', code: 'forbidden' });
    const admin = await client({ sub: 'admin', scopes: ['runs:cancel'] });
    admin.send({ type: 'cancel', id: 'y', runId });
    await admin.next('ack');
    expect((await owner.next((m) => isEvent(runId)(m) && terminal(m))).event).toMatchObject({ kind: 'run.cancelled', cancelledBy: 'admin' });
  });

  it('pauses at breakpoints, steps, and continues', async () => {
    const c = await client();
    const runId = await start(c, { workflow: slow(1), breakpoints: ['first'] });
    await c.next((m) => isEvent(runId)(m) && m.event.kind === 'node.paused' && m.event.nodeId === 'first');
    const status = await fetch(`${server.httpUrl}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await status.json()) as any).status).toBe('paused');
    c.send({ type: 'continue', id: 'step', runId, step: true });
    await c.next((m) => m.type === 'ack' && m.id === 'step');
    await c.next((m) => isEvent(runId)(m) && m.event.kind === 'node.paused' && m.event.nodeId === 'wait');
    c.send({ type: 'continue', id: 'go', runId });
    const frames = await c.collect(isEvent(runId), terminal);
    expect(frames.at(-1).event.kind).toBe('run.completed');
    expect(frames.filter((f) => f.event.kind === 'node.paused')).toHaveLength(0);
  });

  it('answers another workspace\'s run exactly like a missing one', async () => {
    const mine = await client();
    const runId = await start(mine, { workflow: createUser, input: { body: { email: 'w@y.io' } } });
    const theirs = await client({ workspace: 'globex' });
    theirs.send({ type: 'subscribe', id: 'a', runId });
    theirs.send({ type: 'subscribe', id: 'b', runId: 'no-such-run' });
    const ea = await theirs.next((m) => m.type === 'error' && m.id === 'a');
    const eb = await theirs.next((m) => m.type === 'error' && m.id === 'b');
    expect(ea.code).toBe('not_found');
    expect(eb.code).toBe('not_found');
    expect(ea.message.replace(runId, 'X')).toBe(eb.message.replace('no-such-run', 'X'));
    for (const type of ['cancel', 'continue']) {
      theirs.send({ type, id: type, runId });
      expect(await theirs.next((m) => m.id === type)).toMatchObject({ type: 'error', code: 'not_found' });
    }
    // A deployed workflow of another workspace is not found either.
    theirs.send({ type: 'run', id: 'dep', workflowId: 'create-user' });
    expect(await theirs.next((m) => m.id === 'dep')).toMatchObject({ type: 'error', code: 'not_found' });
  });

  it.each([
    ['run', { type: 'run', id: 'q', workflowId: 'create-user' }, ['runs:watch']],
    ['subscribe', { type: 'subscribe', id: 'q', runId: 'x' }, ['runs:execute']],
    ['continue', { type: 'continue', id: 'q', runId: 'x' }, ['runs:watch']],
  ])('refuses %s without its scope', async (_name, msg, scopes) => {
    const c = await client({ scopes });
    c.send(msg);
    expect(await c.next('error')).toMatchObject({ id: 'q', code: 'forbidden' });
  });

  it('refuses an invalid inline workflow with every problem', async () => {
    const c = await client();
    c.send({ type: 'run', id: 'bad', workflow: { ...createUser, edges: [] } });
    const err = await c.next('error');
    expect(err).toMatchObject({ id: 'bad', code: 'workflow_invalid' });
    expect(err.details.length).toBeGreaterThan(1);
    expect(err.details[0]).toEqual({ path: expect.stringMatching(/^\//), message: expect.any(String) });
  });

  it.each([
    ['bad JSON', '{"type":', 'bad_json'],
    ['an array', '[]', 'invalid_message'],
    ['a missing type', '{"id":"a"}', 'invalid_message'],
    ['an unknown type', '{"type":"explode","id":"u1"}', 'unknown_type'],
    ['a missing id', '{"type":"ping"}', 'invalid_message'],
    ['an id too long', JSON.stringify({ type: 'ping', id: 'x'.repeat(65) }), 'invalid_message'],
    ['a negative fromSeq', '{"type":"subscribe","id":"s","runId":"r","fromSeq":-1}', 'invalid_message'],
    ['both workflow and workflowId', JSON.stringify({ type: 'run', id: 'r', workflowId: 'a', workflow: createUser }), 'invalid_message'],
  ])('answers %s with %s and keeps the connection', async (_name, text, code) => {
    const c = await client();
    c.send(text);
    expect(await c.next('error')).toMatchObject({ code });
    c.send({ type: 'ping', id: 'after' });
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'after' });
  });

  it('answers a binary frame with bad_frame and keeps the connection', async () => {
    const c = await client();
    c.sendRaw(Buffer.from('{"type":"ping","id":"b"}'));
    expect(await c.next('error')).toMatchObject({ code: 'bad_frame' });
    c.send({ type: 'ping', id: 'after' });
    await c.next('pong');
  });

  it('echoes the id of an unknown message type', async () => {
    const c = await client();
    c.send({ type: 'explode', id: 'u1' });
    expect(await c.next('error')).toMatchObject({ id: 'u1', code: 'unknown_type' });
  });

  it('stops sending a run\'s events after unsubscribe', async () => {
    const c = await client();
    const runId = await start(c, { workflow: slow(25_000) });
    await c.next((m) => isEvent(runId)(m) && m.event.kind === 'node.started' && m.event.nodeId === 'wait');
    c.send({ type: 'unsubscribe', id: 'u', runId });
    await c.next((m) => m.type === 'ack' && m.id === 'u');
    const seen = c.frames.filter(isEvent(runId)).length;
    const watcher = await client();
    watcher.send({ type: 'subscribe', id: 'w', runId });
    await watcher.next('ack');
    c.send({ type: 'cancel', id: 'c', runId });
    await watcher.next((m) => isEvent(runId)(m) && terminal(m));
    c.send({ type: 'ping', id: 'sync' });
    await c.next('pong');
    expect(c.frames.filter(isEvent(runId)).length).toBe(seen);
  });
});
