import { CompactSign, SignJWT, type JWTPayload } from 'jose';
import { createTokenVerifier, hasScope, parseScopes, parseTtl, signToken, type Principal } from '../../../src/auth';
import { RuncastError } from '../../../src/protocol/errors';

const SECRET = 'test-secret-0123456789abcdef0123456789';
const key = new TextEncoder().encode(SECRET);
/** A fixed clock: every expiry below is relative to it, nothing depends on the wall clock. */
const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;
const clock = (): number => NOW_MS;

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Signs arbitrary claims with any header, for crafting bad tokens. */
async function sign(claims: JWTPayload, { alg = 'HS256', secret = key }: { alg?: string; secret?: Uint8Array } = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(secret);
}

const valid = { sub: 'ada', workspace: 'acme', scope: 'runs:execute runs:watch', exp: NOW + 3600 };
const verifier = createTokenVerifier({ secret: SECRET, now: clock });

async function refusal(token: string, v = verifier): Promise<RuncastError> {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RuncastError);
  expect((err as RuncastError).code).toBe('unauthorized');
  return err as RuncastError;
}

describe('createTokenVerifier', () => {
  describe('#verify', () => {
    it('returns the principal of a valid HS256 token', async () => {
      await expect(verifier.verify(await sign(valid))).resolves.toEqual<Principal>({
        user: 'ada',
        workspace: 'acme',
        scopes: ['runs:execute', 'runs:watch'],
        exp: NOW + 3600,
      });
    });

    it('accepts a token whose nbf has passed', async () => {
      await expect(verifier.verify(await sign({ ...valid, nbf: NOW - 10 }))).resolves.toMatchObject({ user: 'ada' });
    });

    it('refuses an expired token', async () => {
      expect((await refusal(await sign({ ...valid, exp: NOW - 1 }))).message).toBe('token expired');
    });

    it('refuses a token that expires exactly now', async () => {
      expect((await refusal(await sign({ ...valid, exp: NOW }))).message).toBe('token expired');
    });

    it('refuses a token whose nbf is in the future', async () => {
      expect((await refusal(await sign({ ...valid, nbf: NOW + 60 }))).message).toMatch(/^token not yet valid/);
    });

    it('honours clockToleranceSec for exp and nbf', async () => {
      const tolerant = createTokenVerifier({ secret: SECRET, now: clock, clockToleranceSec: 30 });
      await expect(tolerant.verify(await sign({ ...valid, exp: NOW - 20 }))).resolves.toMatchObject({ user: 'ada' });
      await expect(tolerant.verify(await sign({ ...valid, nbf: NOW + 20 }))).resolves.toMatchObject({ user: 'ada' });
      expect((await refusal(await sign({ ...valid, exp: NOW - 40 }), tolerant)).message).toBe('token expired');
    });

    it('refuses a token signed with another secret', async () => {
      const token = await sign(valid, { secret: new TextEncoder().encode('another-secret-another-secret') });
      expect((await refusal(token)).message).toBe('bad signature');
    });

    it('refuses a token whose payload was altered after signing', async () => {
      const [header, , signature] = (await sign(valid)).split('.');
      const forged = `${header}.${b64url({ ...valid, workspace: 'other' })}.${signature}`;
      expect((await refusal(forged)).message).toBe('bad signature');
    });

    it('refuses an unsigned token (alg none)', async () => {
      const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(valid)}.`;
      expect((await refusal(token)).message).toBe('algorithm "none" not allowed: only HS256 tokens are accepted');
    });

    it('refuses alg none even with a signature segment', async () => {
      const token = `${b64url({ alg: 'none' })}.${b64url(valid)}.${b64url('whatever')}`;
      expect((await refusal(token)).message).toMatch(/^algorithm "none" not allowed/);
    });

    it('refuses an RS256-labelled token (algorithm confusion)', async () => {
      const token = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(valid)}.${b64url('not-a-real-signature')}`;
      expect((await refusal(token)).message).toBe('algorithm "RS256" not allowed: only HS256 tokens are accepted');
    });

    it('refuses an HS512 token signed with the right secret', async () => {
      expect((await refusal(await sign(valid, { alg: 'HS512' }))).message).toMatch(/^algorithm "HS512" not allowed/);
    });

    it.each(['sub', 'workspace', 'exp'])('refuses a token without %s', async (claim) => {
      const claims: JWTPayload = { ...valid };
      delete claims[claim];
      expect((await refusal(await sign(claims))).message).toBe(`missing claim "${claim}"`);
    });

    it.each<[string, JWTPayload, string]>([
      ['a numeric sub', { ...valid, sub: 42 as unknown as string }, 'invalid claim "sub": must be a non-empty string'],
      ['an empty sub', { ...valid, sub: '' }, 'invalid claim "sub": must be a non-empty string'],
      ['a numeric workspace', { ...valid, workspace: 1 }, 'invalid claim "workspace": must be a non-empty string'],
      ['an empty workspace', { ...valid, workspace: '' }, 'invalid claim "workspace": must be a non-empty string'],
      ['a workspace object', { ...valid, workspace: { id: 'acme' } }, 'invalid claim "workspace": must be a non-empty string'],
      ['an array scope', { ...valid, scope: ['runs:execute'] }, 'invalid claim "scope": must be a space-separated string'],
    ])('refuses %s', async (_name, claims, message) => {
      expect((await refusal(await sign(claims))).message).toBe(message);
    });

    it.each<[string, JWTPayload]>([
      ['a string exp', { ...valid, exp: 'tomorrow' as unknown as number }],
      ['a string nbf', { ...valid, nbf: 'now' as unknown as number }],
    ])('refuses %s', async (_name, claims) => {
      expect((await refusal(await sign(claims))).message).toMatch(/^invalid claim "(exp|nbf)"/);
    });

    it.each<[string, string]>([
      ['an empty string', ''],
      ['one segment', 'abc'],
      ['two segments', 'abc.def'],
      ['four segments', 'a.b.c.d'],
      ['a header that is not JSON', `${b64url('not json')}.${b64url(valid)}.sig`],
      ['a Bearer prefix', 'Bearer abc.def.ghi'],
    ])('refuses a malformed token: %s', async (_name, token) => {
      expect((await refusal(token)).message).toMatch(/^malformed token/);
    });

    it.each<[string, string]>([
      ['not JSON', 'hello'],
      ['a JSON array', '["ada"]'],
    ])('refuses a correctly signed payload that is %s', async (_name, payload) => {
      const token = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'HS256' }).sign(key);
      expect((await refusal(token)).message).toBe('malformed token');
    });

    it('keeps the jose error as the cause', async () => {
      const err = await refusal(await sign({ ...valid, exp: NOW - 1 }));
      expect((err.cause as { code?: string }).code).toBe('ERR_JWT_EXPIRED');
    });

    it('uses the wall clock by default', async () => {
      const wall = createTokenVerifier({ secret: SECRET });
      const nowSec = Math.floor(Date.now() / 1000);
      await expect(wall.verify(await sign({ ...valid, exp: nowSec + 600 }))).resolves.toMatchObject({ exp: nowSec + 600 });
      expect((await refusal(await sign({ ...valid, exp: nowSec - 600 }), wall)).message).toBe('token expired');
    });
  });

  it('refuses an empty secret at creation', () => {
    expect(() => createTokenVerifier({ secret: '' })).toThrow(RuncastError);
  });
});

describe('scopes', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['runs:execute', ['runs:execute']],
    ['runs:execute runs:watch runs:cancel', ['runs:execute', 'runs:watch', 'runs:cancel']],
    ['  runs:watch \t runs:cancel  ', ['runs:watch', 'runs:cancel']],
    ['runs:watch admin runs:delete openid', ['runs:watch']],
    ['runs:watch runs:watch', ['runs:watch']],
    ['RUNS:WATCH', []],
    ['runs:execute,runs:watch', []],
  ])('parseScopes(%j) is %j', (claim, scopes) => {
    expect(parseScopes(claim)).toEqual(scopes);
  });

  it('a verified token ignores unknown scopes', async () => {
    const principal = await verifier.verify(await sign({ ...valid, scope: 'admin runs:cancel superuser' }));
    expect(principal.scopes).toEqual(['runs:cancel']);
  });

  it('a token without scope has no scopes', async () => {
    const { scope: _scope, ...claims } = valid;
    const principal = await verifier.verify(await sign(claims));
    expect(principal.scopes).toEqual([]);
    expect(hasScope(principal, 'runs:watch')).toBe(false);
  });

  it('hasScope says whether the principal holds the scope', () => {
    const principal: Principal = { user: 'ada', workspace: 'acme', scopes: ['runs:watch'], exp: NOW };
    expect(hasScope(principal, 'runs:watch')).toBe(true);
    expect(hasScope(principal, 'runs:execute')).toBe(false);
    expect(hasScope(principal, 'runs:cancel')).toBe(false);
  });
});

describe('parseTtl', () => {
  it.each<[string, number]>([
    ['1s', 1],
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['24h', 86_400],
    ['7d', 604_800],
    [' 2h ', 7200],
  ])('parseTtl(%j) is %d seconds', (ttl, seconds) => {
    expect(parseTtl(ttl)).toBe(seconds);
  });

  it.each(['', '1', 'h', '0h', '-1h', '1.5h', '1w', '1 h', '1H', '01h', 'ten minutes', '1h30m', '9999999999d'])('refuses %j', (ttl) => {
    expect(() => parseTtl(ttl)).toThrow(RuncastError);
    expect(() => parseTtl(ttl)).toThrow(/invalid ttl/);
  });
});

describe('signToken', () => {
  it('signs a token the verifier accepts, with the requested claims and lifetime', async () => {
    const token = await signToken({ secret: SECRET, sub: 'ada', workspace: 'acme', scopes: ['runs:execute', 'runs:cancel'], ttl: '15m', now: clock });
    await expect(verifier.verify(token)).resolves.toEqual<Principal>({
      user: 'ada',
      workspace: 'acme',
      scopes: ['runs:execute', 'runs:cancel'],
      exp: NOW + 900,
    });
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual({ sub: 'ada', workspace: 'acme', scope: 'runs:execute runs:cancel', iat: NOW, exp: NOW + 900 });
  });

  it('omits the scope claim when no scope is granted, and drops duplicates', async () => {
    const none = await signToken({ secret: SECRET, sub: 'ada', workspace: 'acme', scopes: [], ttl: '1h', now: clock });
    expect(JSON.parse(Buffer.from(none.split('.')[1], 'base64url').toString())).not.toHaveProperty('scope');
    const dup = await signToken({ secret: SECRET, sub: 'ada', workspace: 'acme', scopes: ['runs:watch', 'runs:watch'], ttl: '1h', now: clock });
    expect(JSON.parse(Buffer.from(dup.split('.')[1], 'base64url').toString()).scope).toBe('runs:watch');
  });

  it('signs tokens that expire: the verifier refuses them after ttl', async () => {
    const token = await signToken({ secret: SECRET, sub: 'ada', workspace: 'acme', scopes: [], ttl: '1h', now: clock });
    const later = createTokenVerifier({ secret: SECRET, now: () => NOW_MS + 3_600_000 });
    expect((await refusal(token, later)).message).toBe('token expired');
  });

  it.each<[string, Partial<Parameters<typeof signToken>[0]>, RegExp]>([
    ['an unknown scope', { scopes: ['runs:execute', 'admin'] }, /unknown scope "admin"/],
    ['an empty sub', { sub: '' }, /subject/],
    ['an empty workspace', { workspace: '' }, /workspace/],
    ['a bad ttl', { ttl: 'forever' }, /invalid ttl "forever"/],
    ['an empty secret', { secret: '' }, /secret/],
  ])('refuses %s', async (_name, patch, message) => {
    const options = { secret: SECRET, sub: 'ada', workspace: 'acme', scopes: [], ttl: '1h', ...patch };
    await expect(signToken(options)).rejects.toThrow(message);
    await expect(signToken(options)).rejects.toBeInstanceOf(RuncastError);
  });
});
