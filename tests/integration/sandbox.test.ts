/**
 * Isolated code on a live server: a runaway node fails and the gateway and the other
 * runs carry on (WORKFLOWS.md, last paragraph).
 */
import { startTestServer, type TestServer } from '../helpers/server';
import { linear } from '../fixtures/workflows';

describe('sandboxed code on a live server', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { CODE_TIMEOUT_MS: '300', CODE_MEMORY_MB: '16' } });
    token = await server.token();
  });
  afterAll(() => server.close());

  const execute = async (code: string, body: unknown = null) => {
    const res = await fetch(`${server.httpUrl}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: linear('code', [{ id: 'code', type: 'logic', config: { code } }]), input: { body } }),
    });
    return (await res.json()) as any;
  };

  it('fails an infinite loop with timeout while a run started at the same moment completes first', async () => {
    const order: string[] = [];
    const spin = execute('while (true) {}').then((r) => (order.push('spin'), r));
    const quick = execute('return { ok: true }').then((r) => (order.push('quick'), r));
    const [s, q] = await Promise.all([spin, quick]);
    expect(q).toMatchObject({ status: 'succeeded', response: { body: { ok: true } } });
    expect(s).toMatchObject({ status: 'failed', error: { code: 'timeout', nodeId: 'code' } });
    expect(order).toEqual(['quick', 'spin']);
  });

  it('fails a memory bomb with memory_limit and stays healthy', async () => {
    const bomb = await execute('let a = []; while (true) a.push(new Array(100000).fill("xxxxxxxx"));');
    expect(bomb).toMatchObject({ status: 'failed', error: { code: 'memory_limit' } });
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    expect(await execute('return { after: 1 }')).toMatchObject({ status: 'succeeded', response: { body: { after: 1 } } });
  });

  it('keeps parallel runs apart', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => execute('globalThis.leak = (globalThis.leak || 0) + 1; return { n: input.body.n * 2, leak: globalThis.leak }', { n: i })),
    );
    results.forEach((r, i) => expect(r).toMatchObject({ status: 'succeeded', response: { body: { n: i * 2, leak: 1 } } }));
  });

  it('reports a syntax error before the run starts', async () => {
    const r = await fetch(`${server.httpUrl}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: linear('bad', [{ id: 'code', type: 'logic', config: { code: 'return {' } }]) }),
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as any;
    expect(body.error.code).toBe('workflow_invalid');
    expect(body.error.details[0].path).toBe('/nodes/1/config/code');
  });

  it('reports a code error with the line of the user\'s code', async () => {
    const r = await execute('const a = 1;\nconst b = 2;\nnull.boom;\nreturn a + b');
    expect(r).toMatchObject({ status: 'failed', error: { code: 'code_error' } });
    expect(r.error.message).toMatch(/line 3/);
  });
});
