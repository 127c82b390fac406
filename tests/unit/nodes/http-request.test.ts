import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpRequestNode } from '../../../src/nodes/http-request';
import { configValidator, makeContext } from '../../helpers/node-context';

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('http.request', () => {
  const node = createHttpRequestNode();
  let server: Server;
  let base: string;
  let host: string;
  const hanging: ServerResponse[] = [];
  let hangArrived: (() => void) | undefined;

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const json = (status: number, value: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'x-served-by': 'test' });
      res.end(JSON.stringify(value));
    };
    switch (req.url?.split('?')[0]) {
      case '/echo':
        return json(200, { method: req.method, url: req.url, headers: req.headers, body } satisfies Partial<Echo>);
      case '/text':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end('hello');
      case '/not-found':
        return json(404, { error: 'nope' });
      case '/problem':
        return json(500, { title: 'boom' }, 'application/problem+json');
      case '/bad-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{not json');
      case '/no-content':
        res.writeHead(204, { 'content-type': 'application/json' });
        return void res.end();
      case '/redirect':
        res.writeHead(302, { location: '/text' });
        return void res.end();
      case '/hang':
        hanging.push(res); // never answered; ended in afterAll
        hangArrived?.();
        return;
      default:
        res.writeHead(500);
        res.end();
    }
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    host = `127.0.0.1:${port}`;
    base = `http://${host}`;
  });

  afterAll(async () => {
    for (const res of hanging) res.end();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Resolves once the server holds a /hang request. */
  function nextHang(): Promise<void> {
    return new Promise((resolve) => (hangArrived = resolve));
  }

  describe('configSchema', () => {
    const valid = configValidator(node.configSchema);
    it.each<[string, unknown, boolean]>([
      ['a url', { url: 'https://api.example.com/x' }, true],
      ['everything', { method: 'POST', url: 'http://x.io', headers: { 'x-a': 'b' }, body: { a: 1 }, timeoutMs: 500 }, true],
      ['a templated url', { url: '{{ nodes.cfg.url }}' }, true],
      ['a url with a template inside', { url: 'https://api.example.com/users/{{ input.id }}' }, true],
      ['a string body', { method: 'PUT', url: 'http://x.io', body: 'raw' }, true],
      ['no url', { method: 'GET' }, false],
      ['a file url', { url: 'file:///etc/passwd' }, false],
      ['a relative url', { url: '/users' }, false],
      ['an unknown method', { url: 'http://x.io', method: 'CONNECT' }, false],
      ['a non-string header', { url: 'http://x.io', headers: { 'x-n': 1 } }, false],
      ['a bad header name', { url: 'http://x.io', headers: { 'x n': 'v' } }, false],
      ['timeoutMs 0', { url: 'http://x.io', timeoutMs: 0 }, false],
      ['an extra key', { url: 'http://x.io', retries: 3 }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  describe('#check', () => {
    it.each<[string, Record<string, unknown>, number]>([
      ['a GET with a body', { url: 'http://x.io', body: { a: 1 } }, 1],
      ['a HEAD with a body', { method: 'HEAD', url: 'http://x.io', body: 'x' }, 1],
      ['a POST with a body', { method: 'POST', url: 'http://x.io', body: 'x' }, 0],
      ['a GET without a body', { url: 'http://x.io' }, 0],
    ])('reports %s: %i problem(s)', async (_name, config, count) => {
      expect(await node.check!({ id: 'h', type: 'http.request', config })).toHaveLength(count);
    });
  });

  describe('#run', () => {
    it('GETs and parses a JSON body', async () => {
      const { output } = await node.run(makeContext({ config: { url: `${base}/echo?q=1` } }));
      expect(output).toMatchObject({
        status: 200,
        headers: { 'content-type': 'application/json', 'x-served-by': 'test' },
        body: { method: 'GET', url: '/echo?q=1', body: '' },
      });
    });

    it('sends an object body as JSON with content-type application/json', async () => {
      const config = { method: 'POST', url: `${base}/echo`, headers: { 'x-token': 'abc' }, body: { a: [1, 2] } };
      const body = ((await node.run(makeContext({ config }))).output as { body: Echo }).body;
      expect(body.method).toBe('POST');
      expect(body.headers['content-type']).toBe('application/json');
      expect(body.headers['x-token']).toBe('abc');
      expect(JSON.parse(body.body)).toEqual({ a: [1, 2] });
    });

    it('sends a string body as it is and keeps a given content type', async () => {
      const config = { method: 'PUT', url: `${base}/echo`, headers: { 'content-type': 'text/csv' }, body: 'a,b' };
      const body = ((await node.run(makeContext({ config }))).output as { body: Echo }).body;
      expect(body.body).toBe('a,b');
      expect(body.headers['content-type']).toBe('text/csv');
    });

    it('keeps a given content type for an object body', async () => {
      const config = { method: 'POST', url: `${base}/echo`, headers: { 'Content-Type': 'application/vnd.api+json' }, body: { a: 1 } };
      const body = ((await node.run(makeContext({ config }))).output as { body: Echo }).body;
      expect(body.headers['content-type']).toBe('application/vnd.api+json');
    });

    it('outputs a text body as text', async () => {
      const { output } = await node.run(makeContext({ config: { url: `${base}/text` } }));
      expect(output).toMatchObject({ status: 200, body: 'hello' });
    });

    it.each<[string, string, number, unknown]>([
      ['a 404', '/not-found', 404, { error: 'nope' }],
      ['a 500 with a +json type', '/problem', 500, { title: 'boom' }],
    ])('outputs %s as a result, not a failure', async (_name, path, status, body) => {
      await expect(node.run(makeContext({ config: { url: `${base}${path}` } }))).resolves.toMatchObject({ output: { status, body } });
    });

    it('outputs invalid JSON as text, and an empty JSON body as null', async () => {
      await expect(node.run(makeContext({ config: { url: `${base}/bad-json` } }))).resolves.toMatchObject({ output: { body: '{not json' } });
      await expect(node.run(makeContext({ config: { url: `${base}/no-content` } }))).resolves.toMatchObject({
        output: { status: 204, body: null },
      });
    });

    it('follows redirects', async () => {
      await expect(node.run(makeContext({ config: { url: `${base}/redirect` } }))).resolves.toMatchObject({
        output: { status: 200, body: 'hello' },
      });
    });

    it('fails with timeout when the server does not answer in timeoutMs', async () => {
      const run = node.run(makeContext({ config: { url: `${base}/hang`, timeoutMs: 300 } }));
      await expect(run).rejects.toMatchObject({ code: 'timeout', message: `GET request to ${host} timed out after 300 ms` });
    });

    it('uses the node time limit when timeoutMs is not set', async () => {
      const run = node.run(makeContext({ config: { url: `${base}/hang` }, timeoutMs: 250 }));
      await expect(run).rejects.toMatchObject({ code: 'timeout', message: expect.stringContaining('after 250 ms') });
    });

    it('rejects with the reason when the run signal aborts', async () => {
      const controller = new AbortController();
      const arrived = nextHang();
      const run = node.run(makeContext({ config: { url: `${base}/hang`, timeoutMs: 60_000 }, signal: controller.signal }));
      await arrived;
      const reason = new Error('run cancelled');
      controller.abort(reason);
      await expect(run).rejects.toBe(reason);
    });

    it('fails with http_error naming the host when nothing listens', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const run = node.run(makeContext({ config: { url: `http://127.0.0.1:${port}/x?key=s3cr3t-in-query` } }));
      const err = (await run.catch((e: unknown) => e)) as Error;
      expect(err).toMatchObject({ code: 'http_error', message: `GET request to 127.0.0.1:${port} failed: ECONNREFUSED` });
      expect(err.message).not.toContain('s3cr3t');
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['a non-http url', { url: 'ftp://example.com/x' }, 'must be http or https'],
      ['a url that is not a url', { url: 'not a url' }, 'not a valid URL'],
      ['credentials in the url', { url: 'http://user:pw@127.0.0.1/' }, 'cannot hold credentials'],
      ['a GET with a body', { url: 'http://127.0.0.1/', body: { a: 1 } }, 'cannot have a body'],
      ['a header value with a newline', { url: 'http://127.0.0.1/', headers: { 'x-a': 'a\r\nb' } }, 'header "x-a"'],
    ])('fails with http_error for %s', async (_name, config, message) => {
      await expect(node.run(makeContext({ config }))).rejects.toMatchObject({ code: 'http_error', message: expect.stringContaining(message) });
    });
  });
});
