/**
 * Standard execution over HTTP (PROTOCOL.md section 8) against the real server on
 * port 0: inline and deployed workflows, run status and history, workspace isolation,
 * a JWT round trip, a database write read back after a restart, and an http.request
 * to a local server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, getUser, linear } from '../fixtures/workflows';

async function post(server: TestServer, path: string, body: unknown, token?: string) {
  const res = await fetch(server.httpUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

async function get(server: TestServer, path: string, token?: string) {
  const res = await fetch(server.httpUrl + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

describe('standard execution over HTTP', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({ workflows: [{ ...createUser, workspace: 'acme' }, { ...getUser, workspace: 'acme' }], secrets: { JWT_SECRET: 'jwt-signing-key-0123456789' } });
    token = await server.token();
  });
  afterAll(() => server.close());

  it('runs an inline workflow and answers with the final response only', async () => {
    const res = await post(server, '/v1/runs', { workflow: createUser, input: { method: 'POST', path: '/users', body: { email: '  Ada@Example.COM ' } } }, token);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.response.status).toBe(201);
    expect(res.body.response.body.email).toBe('ada@example.com');
    expect(typeof res.body.response.body.id).toBe('string');
    expect(Object.keys(res.body).sort()).toEqual(['response', 'runId', 'status']);
  });

  it('reports a failed run with the failing node and its code', async () => {
    const res = await post(server, '/v1/runs', { workflow: createUser, input: { body: { name: 'no email' } } }, token);
    expect(res.body.status).toBe('failed');
    expect(res.body.error).toMatchObject({ code: 'validation_failed', nodeId: 'params' });
  });

  it('keeps the run status and its events as NDJSON', async () => {
    const res = await post(server, '/v1/runs', { workflow: createUser, input: { body: { email: 'b@x.io' } } }, token);
    const status = await get(server, `/v1/runs/${res.body.runId}`, token);
    expect(status.status).toBe(200);
    const meta = status.json();
    expect(meta).toMatchObject({ runId: res.body.runId, workflowId: 'create-user', status: 'succeeded' });
    expect(meta.lastSeq).toBe(12);
    expect(typeof meta.endedAt).toBe('string');
    const events = await get(server, `/v1/runs/${res.body.runId}/events?fromSeq=0`, token);
    const frames = events.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(frames[0].event.kind).toBe('run.started');
    expect(frames.at(-1).event.kind).toBe('run.completed');
    const later = await get(server, `/v1/runs/${res.body.runId}/events?fromSeq=10`, token);
    expect(later.text.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([11, 12]);
  });

  it('hides another workspace\'s run exactly like a missing one', async () => {
    const res = await post(server, '/v1/runs', { workflow: createUser, input: { body: { email: 'c@x.io' } } }, token);
    const other = await server.token({ workspace: 'globex' });
    const theirs = await get(server, `/v1/runs/${res.body.runId}`, other);
    const missing = await get(server, `/v1/runs/does-not-exist`, other);
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(theirs.json().error.code).toBe('not_found');
    expect(theirs.json().error.message.replace(res.body.runId, 'X')).toBe(missing.json().error.message.replace('does-not-exist', 'X'));
    expect((await get(server, `/v1/runs/${res.body.runId}/events`, other)).status).toBe(404);
  });

  it.each([
    ['no token', undefined, 401, 'unauthorized'],
    ['a bad token', 'not.a.jwt', 401, 'unauthorized'],
  ])('answers %s with %i', async (_name, tok, status, code) => {
    const res = await post(server, '/v1/runs', { workflow: createUser }, tok);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it('refuses a token without runs:execute with 403', async () => {
    const watcher = await server.token({ scopes: ['runs:watch'] });
    const res = await post(server, '/v1/runs', { workflow: createUser }, watcher);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it.each([
    ['not JSON', '{', 'bad_json'],
    ['both workflow and workflowId', { workflow: createUser, workflowId: 'create-user' }, 'invalid_message'],
    ['neither', { input: {} }, 'invalid_message'],
    ['an unknown property', { workflowId: 'create-user', extra: 1 }, 'invalid_message'],
  ])('answers a body with %s with 400 %s', async (_name, body, code) => {
    const res = await post(server, '/v1/runs', body, token);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
  });

  it('refuses an invalid definition with every problem and its pointer', async () => {
    const broken = { ...createUser, nodes: [...createUser.nodes, { id: 'ghost', type: 'nope' }] };
    const res = await post(server, '/v1/runs', { workflow: broken }, token);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('workflow_invalid');
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/nodes/5/type' })]));
  });

  it('runs a deployed workflow by id only within its workspace', async () => {
    const ok = await post(server, '/v1/runs', { workflowId: 'create-user', input: { body: { email: 'd@x.io' } } }, token);
    expect(ok.body.status).toBe('succeeded');
    const other = await post(server, '/v1/runs', { workflowId: 'create-user', input: { body: { email: 'd@x.io' } } }, await server.token({ workspace: 'globex' }));
    expect(other.status).toBe(404);
  });

  it('serves deployed workflows as live APIs with path params', async () => {
    const created = await fetch(server.httpUrl + '/api/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'E@x.io' }) });
    expect(created.status).toBe(201);
    const user = (await created.json()) as { id: string };
    const runId = created.headers.get('x-runcast-run-id')!;
    expect(runId).toBeTruthy();
    const found = await fetch(server.httpUrl + `/api/users/${user.id}`);
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ id: user.id, email: 'e@x.io' });
    const missing = await fetch(server.httpUrl + '/api/users/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no such user' });
    // The live API run belongs to the workflow's workspace and can be watched.
    const status = await get(server, `/v1/runs/${runId}`, token);
    expect(status.json().status).toBe('succeeded');
  });

  it('answers a failed live API run with 500 and an unknown route with 404', async () => {
    const failed = await fetch(server.httpUrl + '/api/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(failed.status).toBe(500);
    const body = (await failed.json()) as any;
    expect(body.error).toMatchObject({ code: 'validation_failed' });
    expect(typeof body.error.runId).toBe('string');
    const unknown = await fetch(server.httpUrl + '/api/nothing-here');
    expect(unknown.status).toBe(404);
  });

  it('generates and verifies a JWT in one run', async () => {
    const wf = linear('jwt', [
      { id: 'gen', type: 'jwt.generate', config: { payload: { sub: '{{ request.body.user }}', role: 'admin' }, expiresIn: '10m' } },
      { id: 'check', type: 'jwt.verify', config: { token: '{{ nodes.gen.token }}' } },
    ], { body: { sub: '{{ nodes.check.sub }}', role: '{{ nodes.check.role }}' } });
    const res = await post(server, '/v1/runs', { workflow: wf, input: { body: { user: 'u-42' } } }, token);
    expect(res.body).toMatchObject({ status: 'succeeded', response: { body: { sub: 'u-42', role: 'admin' } } });
  });

  it('calls a local HTTP server and sees its answer', async () => {
    const seen: string[] = [];
    const upstream = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pong: true }));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    try {
      const port = (upstream.address() as AddressInfo).port;
      const wf = linear('call', [{ id: 'call', type: 'http.request', config: { method: 'GET', url: `http://127.0.0.1:${port}/ping?x=1` } }], { body: '{{ nodes.call.body }}' });
      const res = await post(server, '/v1/runs', { workflow: wf }, token);
      expect(res.body.response.body).toEqual({ pong: true });
      expect(seen).toEqual(['GET /ping?x=1']);
    } finally {
      await new Promise((r) => upstream.close(r));
    }
  });

  it('fails an http.request to an unreachable port with http_error', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const wf = linear('down', [{ id: 'call', type: 'http.request', config: { method: 'GET', url: `http://127.0.0.1:${port}/` } }]);
    const res = await post(server, '/v1/runs', { workflow: wf }, token);
    expect(res.body.error).toMatchObject({ code: 'http_error', nodeId: 'call' });
  });

  it('fails a bad template reference with template_error', async () => {
    const wf = linear('tpl', [{ id: 'a', type: 'logic', config: { code: 'return {x: 1}' } }], { body: '{{ input.nope.deeper }}' });
    const res = await post(server, '/v1/runs', { workflow: wf }, token);
    expect(res.body.error).toMatchObject({ code: 'template_error', nodeId: 'respond' });
  });

  it('answers /healthz, /readyz, /metrics and /schemas', async () => {
    expect((await get(server, '/healthz')).status).toBe(200);
    expect((await get(server, '/readyz')).status).toBe(200);
    await post(server, '/v1/runs', { workflow: createUser, input: { body: { email: 'm@x.io' } } }, token);
    const metrics = await get(server, '/metrics');
    for (const name of [
      'runcast_ws_connections', 'runcast_ws_subscriptions', 'runcast_active_runs', 'runcast_runs_started_total',
      'runcast_ws_events_sent_total', 'runcast_ws_bytes_sent_total', 'runcast_ws_slow_consumer_disconnects_total',
      'runcast_auth_failures_total', 'runcast_event_delivery_seconds_bucket',
    ]) expect(metrics.text).toContain(name);
    expect(metrics.text).toMatch(/runcast_runs_started_total\{mode="standard"\} [1-9]/);
    const schema = await get(server, '/schemas/client-message.json');
    expect(schema.status).toBe(200);
    expect(schema.json()).toHaveProperty('$id');
    expect((await get(server, '/schemas/nope.json')).status).toBe(404);
  });
});

describe('the database survives a restart', () => {
  it('reads back after the server restarts on the same DATA_DIR', async () => {
    const first = await startTestServer({ workflows: [{ ...createUser, workspace: 'acme' }, { ...getUser, workspace: 'acme' }] });
    const created = await fetch(first.httpUrl + '/api/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'keep@x.io' }) });
    const { id } = (await created.json()) as { id: string };
    await first.close();
    const second = await startTestServer({ dataDir: first.dataDir, workflows: [{ ...getUser, workspace: 'acme' }] });
    try {
      const found = await fetch(second.httpUrl + `/api/users/${id}`);
      expect(found.status).toBe(200);
      expect(await found.json()).toMatchObject({ id, email: 'keep@x.io' });
    } finally {
      await second.close();
    }
  });
});

describe('MAX_HTTP_BODY_BYTES', () => {
  it('takes a body of exactly the limit and refuses one byte more', async () => {
    const server = await startTestServer({ env: { MAX_HTTP_BODY_BYTES: '2048' } });
    try {
      const token = await server.token();
      const body = (n: number) => {
        const base = JSON.stringify({ workflowId: 'nope', input: { body: '' } });
        return JSON.stringify({ workflowId: 'nope', input: { body: 'x'.repeat(n - base.length) } });
      };
      const at = await post(server, '/v1/runs', body(2048), token);
      expect(at.status).toBe(404); // read and parsed: the workflow does not exist
      const over = await post(server, '/v1/runs', body(2049), token);
      expect(over.status).toBe(400);
      expect(over.body.error.message).toMatch(/larger than 2048 bytes/);
    } finally {
      await server.close();
    }
  });
});
