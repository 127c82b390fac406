/**
 * The gateway's connection rules (PROTOCOL.md sections 1, 2, 7) over real sockets:
 * handshake auth, auth message, Origin allowlist, query tokens, close codes, token
 * refresh and expiry, heartbeat.
 */
import WebSocket from 'ws';
import { connect, HandshakeError } from '../helpers/ws-client';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server';
import { signToken } from '../../src/auth';

function unsigned(claims: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

describe('gateway connections', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTH_TIMEOUT_MS: '300', ALLOWED_ORIGINS: 'https://console.example' } });
  });
  afterAll(() => server.close());

  it('accepts a bearer token in the handshake and says ready with the limits', async () => {
    const c = await connect(server.wsUrl, { token: await server.token({ scopes: ['runs:watch'] }) });
    const ready = await c.next('ready');
    expect(ready).toEqual({
      type: 'ready',
      connectionId: expect.any(String),
      user: 'alice',
      workspace: 'acme',
      scopes: ['runs:watch'],
      heartbeatMs: 30000,
      maxMessageBytes: 1048576,
    });
    expect(c.ws.protocol).toBe('runcast.v1');
    await c.close();
  });

  it('accepts the token as the first auth message', async () => {
    const c = await connect(server.wsUrl, { authMessage: await server.token() });
    expect((await c.next('ready')).user).toBe('alice');
    await c.close();
  });

  it('works without the subprotocol offered', async () => {
    const c = await connect(server.wsUrl, { protocols: [], token: await server.token() });
    await c.next('ready');
    expect(c.ws.protocol).toBe('');
    await c.close();
  });

  it('closes with 4401 when a message other than auth comes first', async () => {
    const c = await connect(server.wsUrl);
    c.send({ type: 'ping', id: 'p' });
    expect((await c.closed).code).toBe(4401);
  });

  it('closes with 4401 when bad JSON comes before auth', async () => {
    const c = await connect(server.wsUrl);
    c.send('{nope');
    expect((await c.closed).code).toBe(4401);
  });

  it.each([
    ['a garbage token', async () => 'garbage'],
    ['a token signed with another key', () => signToken({ secret: 'another-key-0123456789abcdef', sub: 'a', workspace: 'w', scopes: [], ttl: '1h' })],
    ['an unsigned token', async () => unsigned({ sub: 'a', workspace: 'w', exp: Math.floor(Date.now() / 1000) + 60 })],
    ['an expired token', () => signToken({ secret: TEST_JWT_SECRET, sub: 'a', workspace: 'w', scopes: [], ttl: '1s', now: () => Date.now() - 60_000 })],
  ])('closes with 4401 for %s in the handshake', async (_name, make) => {
    const c = await connect(server.wsUrl, { token: await make() });
    expect((await c.closed).code).toBe(4401);
  });

  it.each([
    ['a garbage token', async () => 'garbage'],
    ['an unsigned token', async () => unsigned({ sub: 'a', workspace: 'w', exp: Math.floor(Date.now() / 1000) + 60 })],
  ])('closes with 4401 for %s in the auth message', async (_name, make) => {
    const c = await connect(server.wsUrl, { authMessage: await make() });
    expect((await c.closed).code).toBe(4401);
  });

  it('closes with 4408 when no auth comes in time', async () => {
    const c = await connect(server.wsUrl);
    expect((await c.closed).code).toBe(4408);
  });

  it('refuses a token in the query string', async () => {
    const token = await server.token();
    await expect(connect(`${server.wsUrl}?token=${token}`)).rejects.toMatchObject({ status: 400 });
  });

  it('refuses a handshake from a foreign Origin with HTTP 403', async () => {
    const err = await connect(server.wsUrl, { headers: { Origin: 'https://evil.example' } }).catch((e) => e);
    expect(err).toBeInstanceOf(HandshakeError);
    expect(err.status).toBe(403);
  });

  it('accepts an allowed Origin', async () => {
    const c = await connect(server.wsUrl, { headers: { Origin: 'https://console.example' }, authMessage: await server.token() });
    await c.next('ready');
    await c.close();
  });

  it('refuses another path with 404', async () => {
    await expect(connect(server.httpUrl.replace('http', 'ws') + '/elsewhere')).rejects.toMatchObject({ status: 404 });
  });

  it('takes a refreshed token for the same user, and refuses one for another user', async () => {
    const c = await connect(server.wsUrl, { token: await server.token() });
    const first = await c.next('ready');
    c.send({ type: 'auth', token: await server.token({ scopes: ['runs:watch'] }) });
    const again = await c.next('ready');
    expect(again.connectionId).toBe(first.connectionId);
    expect(again.scopes).toEqual(['runs:watch']);
    c.send({ type: 'auth', token: await server.token({ sub: 'mallory' }) });
    expect(await c.next('error')).toMatchObject({ code: 'forbidden' });
    c.send({ type: 'ping', id: 'still-here' });
    expect(await c.next('pong')).toEqual({ type: 'pong', id: 'still-here' });
    await c.close();
  });

  it('closes with 4401 when the token expires without a refresh', async () => {
    const c = await connect(server.wsUrl, { token: await server.token({ ttl: '1s' }) });
    await c.next('ready');
    expect((await c.closed).code).toBe(4401);
  });
});

describe('gateway origin default', () => {
  it('allows only the server\'s own origin when ALLOWED_ORIGINS is not set', async () => {
    const server = await startTestServer();
    try {
      const own = new URL(server.httpUrl).origin;
      const c = await connect(server.wsUrl, { headers: { Origin: own }, authMessage: await server.token() });
      await c.next('ready');
      await c.close();
      await expect(connect(server.wsUrl, { headers: { Origin: 'http://localhost:1' } })).rejects.toMatchObject({ status: 403 });
    } finally {
      await server.close();
    }
  });
});

describe('gateway heartbeat', () => {
  it('terminates a peer that does not answer pings', async () => {
    const server = await startTestServer({ env: { HEARTBEAT_MS: '50' } });
    try {
      const token = await server.token();
      const silent = new WebSocket(server.wsUrl, ['runcast.v1'], { headers: { Authorization: `Bearer ${token}` }, autoPong: false });
      const answering = await connect(server.wsUrl, { token });
      await answering.next('ready');
      const code = await new Promise<number>((r) => silent.on('close', (c) => r(c)));
      expect(code).toBe(1006);
      // The answering peer is still served after several heartbeats.
      answering.send({ type: 'ping', id: 'alive' });
      expect(await answering.next('pong')).toEqual({ type: 'pong', id: 'alive' });
      await answering.close();
    } finally {
      await server.close();
    }
  });
});
