import { decodeProtectedHeader, jwtVerify } from 'jose';
import { createJwtGenerateNode } from '../../../src/nodes/jwt-generate';
import { configValidator, makeContext } from '../../helpers/node-context';

const SECRET = 'a-long-enough-signing-secret';
const key = new TextEncoder().encode(SECRET);

describe('jwt.generate', () => {
  const node = createJwtGenerateNode();
  const valid = configValidator(node.configSchema);

  describe('configSchema', () => {
    it.each<[string, unknown, boolean]>([
      ['payload and expiresIn', { payload: { sub: 'u1' }, expiresIn: '1h' }, true],
      ['seconds', { payload: {}, expiresIn: '30s' }, true],
      ['days and a secret name', { payload: {}, expiresIn: '7d', secret: 'SESSION_KEY' }, true],
      ['no payload', { expiresIn: '1h' }, false],
      ['no expiresIn', { payload: {} }, false],
      ['a payload array', { payload: [], expiresIn: '1h' }, false],
      ['a payload string', { payload: 'sub', expiresIn: '1h' }, false],
      ['weeks', { payload: {}, expiresIn: '1w' }, false],
      ['a bare number', { payload: {}, expiresIn: '3600' }, false],
      ['a spaced unit', { payload: {}, expiresIn: '1 h' }, false],
      ['a secret value template', { payload: {}, expiresIn: '1h', secret: '{{ secrets.JWT_SECRET }}' }, false],
      ['an empty secret name', { payload: {}, expiresIn: '1h', secret: '' }, false],
      ['an extra key', { payload: {}, expiresIn: '1h', algorithm: 'none' }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  describe('#run', () => {
    it('signs an HS256 token with JWT_SECRET by default and adds it to the run secrets', async () => {
      const ctx = makeContext({ config: { payload: { sub: 'u1', role: 'admin' }, expiresIn: '10m' }, scope: { secrets: { JWT_SECRET: SECRET } } });
      const before = Math.floor(Date.now() / 1000);
      const { output } = await node.run(ctx);
      const { token } = output as { token: string };
      expect(ctx.addedSecrets).toEqual([token]);
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
      expect(payload).toMatchObject({ sub: 'u1', role: 'admin' });
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect(payload.exp! - payload.iat!).toBe(600);
    });

    it.each<[string, number]>([
      ['45s', 45],
      ['2h', 7200],
      ['7d', 604800],
    ])('expiresIn %s sets exp %i seconds after iat', async (expiresIn, seconds) => {
      const ctx = makeContext({ config: { payload: {}, expiresIn }, scope: { secrets: { JWT_SECRET: SECRET } } });
      const { token } = (await node.run(ctx)).output as { token: string };
      const { payload } = await jwtVerify(token, key);
      expect(payload.exp! - payload.iat!).toBe(seconds);
    });

    it('signs with the named secret', async () => {
      const other = 'another-signing-secret';
      const ctx = makeContext({
        config: { payload: { a: 1 }, expiresIn: '1h', secret: 'OTHER' },
        scope: { secrets: { JWT_SECRET: SECRET, OTHER: other } },
      });
      const { token } = (await node.run(ctx)).output as { token: string };
      await expect(jwtVerify(token, new TextEncoder().encode(other))).resolves.toBeDefined();
      await expect(jwtVerify(token, key)).rejects.toThrow();
    });

    it('fails with jwt_error naming the secret, not its value, when the secret is missing', async () => {
      const ctx = makeContext({ config: { payload: {}, expiresIn: '1h', secret: 'MISSING' }, scope: { secrets: { JWT_SECRET: SECRET } } });
      await expect(node.run(ctx)).rejects.toMatchObject({ code: 'jwt_error', message: expect.stringContaining('"MISSING"') });
      expect(ctx.addedSecrets).toEqual([]);
    });

    it.each<[string, Record<string, unknown>]>([
      ['a payload that resolved to an array', { payload: [1], expiresIn: '1h' }],
      ['a payload that resolved to null', { payload: null, expiresIn: '1h' }],
      ['a bad expiresIn', { payload: {}, expiresIn: 'soon' }],
    ])('fails with jwt_error for %s', async (_name, config) => {
      const ctx = makeContext({ config, scope: { secrets: { JWT_SECRET: SECRET } } });
      await expect(node.run(ctx)).rejects.toMatchObject({ code: 'jwt_error' });
    });
  });
});
