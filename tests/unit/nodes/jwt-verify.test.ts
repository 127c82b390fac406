import { SignJWT, UnsecuredJWT } from 'jose';
import { createJwtVerifyNode } from '../../../src/nodes/jwt-verify';
import { configValidator, makeContext } from '../../helpers/node-context';

const SECRET = 'a-long-enough-signing-secret';
const key = new TextEncoder().encode(SECRET);
const secrets = { JWT_SECRET: SECRET };

function sign(claims: Record<string, unknown>, signingKey: Uint8Array = key, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(signingKey);
}

describe('jwt.verify', () => {
  const node = createJwtVerifyNode();
  const valid = configValidator(node.configSchema);

  describe('configSchema', () => {
    it.each<[string, unknown, boolean]>([
      ['a token template', { token: '{{ request.headers.authorization }}' }, true],
      ['a secret name', { token: '{{ input.token }}', secret: 'SESSION_KEY' }, true],
      ['no token', {}, false],
      ['an empty token', { token: '' }, false],
      ['a token object', { token: { a: 1 } }, false],
      ['a secret value template', { token: 'x', secret: '{{ secrets.JWT_SECRET }}' }, false],
      ['an extra key', { token: 'x', algorithms: ['none'] }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  describe('#run', () => {
    it('outputs the verified claims', async () => {
      const token = await sign({ sub: 'u1', role: 'admin', exp: Math.floor(Date.now() / 1000) + 60 });
      const { output } = await node.run(makeContext({ config: { token }, scope: { secrets } }));
      expect(output).toMatchObject({ sub: 'u1', role: 'admin' });
    });

    it('accepts an authorization header value with a Bearer prefix', async () => {
      const token = await sign({ sub: 'u2' });
      const { output } = await node.run(makeContext({ config: { token: `Bearer ${token}` }, scope: { secrets } }));
      expect(output).toEqual({ sub: 'u2' });
    });

    it('verifies with the named secret', async () => {
      const other = new TextEncoder().encode('another-signing-secret');
      const token = await sign({ sub: 'u3' }, other);
      const ctx = makeContext({ config: { token, secret: 'OTHER' }, scope: { secrets: { ...secrets, OTHER: 'another-signing-secret' } } });
      await expect(node.run(ctx)).resolves.toEqual({ output: { sub: 'u3' } });
    });

    it('fails with jwt_expired when exp has passed', async () => {
      const token = await sign({ sub: 'u1', exp: Math.floor(Date.now() / 1000) - 10 });
      await expect(node.run(makeContext({ config: { token }, scope: { secrets } }))).rejects.toMatchObject({
        code: 'jwt_expired',
        message: 'the token has expired',
      });
    });

    it.each<[string, () => Promise<string>]>([
      ['a wrong signature', () => sign({ sub: 'u1' }, new TextEncoder().encode('some-other-secret-key'))],
      ['a tampered payload', async () => {
        const [h, , s] = (await sign({ sub: 'u1' })).split('.');
        return `${h}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${s}`;
      }],
      ['an unsigned token (alg none)', async () => new UnsecuredJWT({ sub: 'u1' }).encode()],
      ['another HMAC algorithm', () => sign({ sub: 'u1' }, key, 'HS512')],
      ['a token not yet valid', () => sign({ sub: 'u1', nbf: Math.floor(Date.now() / 1000) + 3600 })],
      ['garbage', async () => 'not.a.jwt'],
      ['an empty string', async () => ' '],
    ])('fails with jwt_invalid for %s', async (_name, makeToken) => {
      const token = await makeToken();
      await expect(node.run(makeContext({ config: { token }, scope: { secrets } }))).rejects.toMatchObject({ code: 'jwt_invalid' });
    });

    it('fails with jwt_invalid when the token resolved to something else than a string', async () => {
      await expect(node.run(makeContext({ config: { token: { a: 1 } }, scope: { secrets } }))).rejects.toMatchObject({ code: 'jwt_invalid' });
    });

    it('fails with jwt_invalid naming the secret, not a value, when the secret is missing', async () => {
      const token = await sign({ sub: 'u1' });
      const run = node.run(makeContext({ config: { token, secret: 'NOPE' }, scope: { secrets } }));
      await expect(run).rejects.toMatchObject({ code: 'jwt_invalid', message: expect.stringContaining('"NOPE"') });
    });

    it('never puts the token in the error message', async () => {
      const token = await sign({ sub: 'u1' }, new TextEncoder().encode('some-other-secret-key'));
      const err = await node.run(makeContext({ config: { token }, scope: { secrets } })).catch((e: Error) => e);
      expect((err as Error).message).not.toContain(token);
      expect((err as Error).message).not.toContain(token.split('.')[2]);
    });
  });
});
