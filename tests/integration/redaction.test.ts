/**
 * End to end on a live server (PROTOCOL.md section 6): secrets reach the nodes for
 * real (a local HTTP server receives the real values) but no form of any secret, nor
 * a JWT generated during the run, appears in any WebSocket frame, in the NDJSON
 * history or in a log line — while the redacted places read [REDACTED].
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from '../helpers/ws-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { secretForms } from '../../src/redaction';
import type { WorkflowDefinition } from '../../src/protocol/workflow';

const SECRETS = {
  API_KEY: 'sk_live_9f8e7d6c5b4a3210',
  DB_PASS: 'correct horse battery staple',
  MULTI: 'first-line-of-key\nsecond-line-of-key',
  JWT_SECRET: 'jwt-signing-key-that-is-long-enough',
};

interface Received {
  headers: http.IncomingHttpHeaders;
  body: any;
}

describe('no secret leaves the process', () => {
  let server: TestServer;
  let upstream: http.Server;
  let upstreamUrl: string;
  const received: Received[] = [];

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = text ? JSON.parse(text) : null;
        received.push({ headers: req.headers, body });
        const key = String(req.headers['x-api-key'] ?? '');
        const pass = String(body?.pass ?? '');
        // Echo the secrets back in the encodings an API might use.
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `sid=${key}` });
        res.end(JSON.stringify({
          raw: `key=${key}`,
          basic: Buffer.from(`user:${key}`).toString('base64'),
          basicUrl: Buffer.from(`u:${pass}`).toString('base64url'),
          hex: Buffer.from(key).toString('hex'),
          url: `https://x.example/?p=${encodeURIComponent(pass)}&q=${pass.replace(/ /g, '+')}`,
          nested: JSON.stringify({ k: key }),
          token: body?.token ?? null,
          note: `token inside text: ${body?.token ?? ''}`,
        }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/echo`;
    server = await startTestServer({ secrets: SECRETS });
  });
  afterAll(async () => {
    await server.close();
    await new Promise((r) => upstream.close(r));
  });

  const leaky = (): WorkflowDefinition => ({
    id: 'leaky',
    nodes: [
      { id: 'start', type: 'api.start', config: { method: 'POST', path: '/leaky' } },
      { id: 'call', type: 'http.request', config: { method: 'POST', url: upstreamUrl, headers: { 'x-api-key': '{{ secrets.API_KEY }}' }, body: { pass: '{{ secrets.DB_PASS }}' } } },
      { id: 'code', type: 'logic', config: { code: 'console.log("the key is " + secrets.API_KEY); console.warn(secrets.MULTI); return { k: secrets.API_KEY, m: secrets.MULTI, p: "pass:" + secrets.DB_PASS }' } },
      { id: 'gen', type: 'jwt.generate', config: { payload: { sub: 'u1' }, expiresIn: '10m' } },
      { id: 'send', type: 'http.request', config: { method: 'POST', url: upstreamUrl, body: { token: '{{ nodes.gen.token }}' } } },
      { id: 'respond', type: 'api.response', config: { body: { echoed: '{{ nodes.call.body }}', code: '{{ nodes.code }}', t: '{{ nodes.gen.token }}', again: '{{ nodes.send.body }}' } } },
    ],
    edges: [
      { from: 'start', to: 'call' }, { from: 'call', to: 'code' }, { from: 'code', to: 'gen' },
      { from: 'gen', to: 'send' }, { from: 'send', to: 'respond' },
    ],
  });

  const thrower: WorkflowDefinition = {
    id: 'thrower',
    nodes: [
      { id: 'start', type: 'api.start', config: { method: 'POST', path: '/thrower' } },
      { id: 'boom', type: 'logic', config: { code: 'throw new Error("cannot connect with " + secrets.DB_PASS + " / " + secrets.API_KEY)' } },
      { id: 'respond', type: 'api.response', config: {} },
    ],
    edges: [{ from: 'start', to: 'boom' }, { from: 'boom', to: 'respond' }],
  };

  function leaks(text: string, secrets: string[]): string[] {
    const hits: string[] = [];
    for (const s of secrets) for (const form of secretForms(s)) if (text.includes(form)) hits.push(`${JSON.stringify(form)} (of a secret)`);
    return hits;
  }

  it('masks every form of every secret in frames, history and logs', async () => {
    const token = await server.token();
    const c = await connect(server.wsUrl, { token });
    await c.next('ready');
    c.send({ type: 'run', id: 'r1', workflow: leaky(), input: { headers: { authorization: `Bearer ${SECRETS.API_KEY}`, cookie: 'session=abcdef123456' } } });
    const { runId } = await c.next('ack');
    const frames = await c.collect((m) => m.type === 'event' && m.runId === runId, (m) => m.event.kind.startsWith('run.') && m.event.kind !== 'run.started');
    c.send({ type: 'run', id: 'r2', workflow: thrower });
    const { runId: failedRunId } = await c.next((m) => m.type === 'ack' && m.id === 'r2');
    const failedFrames = await c.collect((m) => m.type === 'event' && m.runId === failedRunId, (m) => m.event.kind === 'run.failed');
    await c.close();

    expect(frames.at(-1).event.kind).toBe('run.completed');
    // The nodes got the real secrets.
    expect(received[0]!.headers['x-api-key']).toBe(SECRETS.API_KEY);
    expect(received[0]!.body).toEqual({ pass: SECRETS.DB_PASS });
    const jwt: string = received[1]!.body.token;
    expect(jwt.split('.')).toHaveLength(3);

    const history = await (await fetch(`${server.httpUrl}/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${token}` } })).text();
    const failedHistory = await (await fetch(`${server.httpUrl}/v1/runs/${failedRunId}/events`, { headers: { authorization: `Bearer ${token}` } })).text();
    const all = [...Object.values(SECRETS), jwt];
    const wire = c.texts.join('\n');
    expect(leaks(wire, all)).toEqual([]);
    expect(leaks(history + failedHistory, all)).toEqual([]);
    expect(leaks(server.logs(), all)).toEqual([]);

    // The redacted places read [REDACTED].
    const completed = frames.at(-1).event;
    const echoed = completed.response.body.echoed;
    expect(echoed.raw).toBe('key=[REDACTED]');
    expect(echoed.hex).toBe('[REDACTED]');
    expect(echoed.basic).toContain('[REDACTED]');
    expect(echoed.url).toContain('[REDACTED]');
    expect(completed.response.body.t).toBe('[REDACTED]');
    expect(completed.response.body.again.note).toBe('token inside text: [REDACTED]');
    const started = frames.find((f) => f.event.kind === 'node.started' && f.event.nodeId === 'call').event;
    expect(started.config.headers['x-api-key']).toBe('[REDACTED]');
    expect(started.config.body.pass).toBe('[REDACTED]');
    expect(frames.find((f) => f.event.kind === 'node.started' && f.event.nodeId === 'start').event.input.headers).toMatchObject({ authorization: '[REDACTED]', cookie: '[REDACTED]' });
    const callDone = frames.find((f) => f.event.kind === 'node.completed' && f.event.nodeId === 'call').event;
    expect(callDone.output.headers['set-cookie']).toBe('[REDACTED]');
    const logs = frames.filter((f) => f.event.kind === 'node.log').map((f) => f.event.message);
    expect(logs).toEqual(expect.arrayContaining(['the key is [REDACTED]']));
    expect(logs.join('\n')).not.toMatch(/line-of-key/);
    const failed = failedFrames.find((f) => f.event.kind === 'node.failed').event;
    expect(failed.error.code).toBe('code_error');
    expect(failed.error.message).toContain('cannot connect with [REDACTED] / [REDACTED]');
    expect(server.logs()).toContain('run ended');
  });

  it('masks secrets in a failed live API answer', async () => {
    const standard = await fetch(`${server.httpUrl}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await server.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: thrower }),
    });
    const body = (await standard.json()) as any;
    expect(body.status).toBe('failed');
    expect(leaks(JSON.stringify(body), Object.values(SECRETS))).toEqual([]);
    expect(body.error.message).toContain('[REDACTED]');
  });
});
