import { Buffer } from 'node:buffer';
import { createRedactor, DEFAULT_SENSITIVE_KEYS, REDACTED, SecretRefusedError } from '../../../src/redaction';

/**
 * Contains a space, a quote (JSON escape), `/` `?` `>` `~` (so its base64 has `+` and
 * `/`, and base64url differs), `&` and a non-ASCII letter (multi-byte UTF-8).
 */
const SECRET = 'Tr0ub4dor&3 "x"/é?>~';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const b64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');
const everyByte = (text: string): string => [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');

/**
 * The characters of base64(prefix + SECRET + suffix) that depend on the secret's bytes
 * only: they must be gone after redaction, whatever surrounds the secret.
 */
function base64Core(prefix: string, suffix: string, url: boolean): { encoded: string; core: string } {
  const encoded = url ? b64url(prefix + SECRET + suffix) : b64(prefix + SECRET + suffix);
  const p = Buffer.byteLength(prefix);
  const n = Buffer.byteLength(SECRET);
  return { encoded, core: encoded.slice(Math.ceil((8 * p) / 6), Math.floor((8 * (p + n)) / 6)) };
}

describe('createRedactor', () => {
  const redactor = createRedactor({ secrets: [SECRET] });

  it('has a secret whose base64 holds + and / (so the url alphabet is really exercised)', () => {
    const all = [0, 1, 2].map((p) => b64('x'.repeat(p) + SECRET)).join('');
    expect(all).toMatch(/\+/);
    expect(all).toMatch(/\//);
  });

  describe('value-based: exact forms inside a longer string', () => {
    it.each<[string, string]>([
      ['raw', SECRET],
      ['JSON-escaped', JSON.stringify(SECRET).slice(1, -1)],
      ['JSON-escaped with \\u escapes (ASCII-only serialisers)', JSON.stringify(SECRET).slice(1, -1).replace('é', '\\u00e9')],
      ['base64, padded', b64(SECRET)],
      ['base64, unpadded', b64(SECRET).replace(/=+$/, '')],
      ['base64url, unpadded', b64url(SECRET)],
      ['base64url, padded', b64(SECRET).replace(/\+/g, '-').replace(/\//g, '_')],
      ['hex, lower case', hex(SECRET)],
      ['hex, upper case', hex(SECRET).toUpperCase()],
      ['URL-encoded (encodeURIComponent, %20)', encodeURIComponent(SECRET)],
      ['URL-encoded, + for space', encodeURIComponent(SECRET).replace(/%20/g, '+')],
      ['URL-encoded by URLSearchParams', new URLSearchParams({ q: SECRET }).toString().slice(2)],
      ['URL-encoded by encodeURI', encodeURI(SECRET)],
      ['URL-encoded, every byte %XX upper case', everyByte(SECRET)],
      ['URL-encoded, every byte %xx lower case', everyByte(SECRET).toLowerCase()],
    ])('masks the %s form', (_name, form) => {
      expect(redactor.redactText(`before ${form} after`)).toBe(`before ${REDACTED} after`);
      expect(redactor.redactText(form)).toBe(REDACTED);
      expect(redactor.redact({ value: `x${form}y` })).toEqual({ value: `x${REDACTED}y` });
    });

    it('masks the secret inside serialised JSON held in a string', () => {
      const body = JSON.stringify({ user: 'ana', note: SECRET });
      expect(redactor.redact({ body })).toEqual({ body: `{"user":"ana","note":"${REDACTED}"}` });
    });
  });

  describe('value-based: base64 inside a longer encoded string', () => {
    const cases: Array<[string, string, string]> = [];
    for (const prefix of ['', 'u', 'us', 'use', 'user:', 'Bearer-ish é ']) {
      for (const suffix of ['', 'z', 'zz', ':more-data']) cases.push([JSON.stringify(prefix), JSON.stringify(suffix), `${prefix}\u0000${suffix}`]);
    }
    it.each(cases)('masks base64 and base64url of prefix %s + secret + suffix %s', (_p, _s, joined) => {
      const [prefix, suffix] = joined.split('\u0000') as [string, string];
      for (const url of [false, true]) {
        const { encoded, core } = base64Core(prefix, suffix, url);
        for (const text of [encoded, encoded.replace(/=+$/, ''), `Authorization: Basic ${encoded}`]) {
          const out = redactor.redactText(text);
          expect(out).toContain(REDACTED);
          expect(out).not.toContain(core);
        }
      }
    });

    it('masks the Basic credentials of base64("user:" + secret) to the last character', () => {
      const header = `Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}`;
      const out = redactor.redactText(header);
      // "user:" is 5 bytes: 6 characters depend on it alone, a 7th on it and the secret.
      expect(out).toBe(`Basic ${header.slice(6, 13)}${REDACTED}`);
    });
  });

  describe('value-based: multi-line secrets', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8w\r\nggE7AgEAAkEAq7BFUpkGp3+XQ\nabc\n-----END PRIVATE KEY-----';
    const pem = createRedactor({ secrets: [key] });

    it.each([
      ['-----BEGIN PRIVATE KEY-----'],
      ['MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8w'],
      ['ggE7AgEAAkEAq7BFUpkGp3+XQ'],
      ['-----END PRIVATE KEY-----'],
    ])('masks the line %s on its own', (line) => {
      expect(pem.redactText(`line: ${line}!`)).toBe(`line: ${REDACTED}!`);
    });

    it('does not use a line shorter than 6 characters as a pattern', () => {
      expect(pem.redactText('abc is fine')).toBe('abc is fine');
    });

    it('masks the whole secret as one span, also JSON-escaped', () => {
      expect(pem.redactText(`k=${key};`)).toBe(`k=${REDACTED};`);
      expect(pem.redactText(`k=${JSON.stringify(key)};`)).toBe(`k="${REDACTED}";`);
    });
  });

  describe('value-based: keys and overlaps', () => {
    it('masks a secret used as an object key', () => {
      expect(redactor.redact({ [SECRET]: 1, [`id-${SECRET}`]: 2 })).toEqual({ [REDACTED]: 1, [`id-${REDACTED}`]: 2 });
    });

    it('keeps both values when two keys redact to the same text', () => {
      const r = createRedactor({ secrets: ['alpha-value-1', 'bravo-value-2'] });
      expect(r.redact({ 'alpha-value-1': 1, 'bravo-value-2': 2 })).toEqual({ [REDACTED]: 1, [`${REDACTED}#2`]: 2 });
    });

    it('matches the longest of secrets that start at the same place', () => {
      const r = createRedactor({ secrets: ['abcdef1234', 'abcdef1234567890'] });
      expect(r.redactText('x abcdef1234567890 y')).toBe(`x ${REDACTED} y`);
      expect(r.redactText('x abcdef12345 y')).toBe(`x ${REDACTED}5 y`);
    });

    it('masks the union of secrets that overlap, leaving no fragment of either', () => {
      const r = createRedactor({ secrets: ['xyz-abcdef', 'abcdef-ghi'] });
      expect(r.redactText('1 xyz-abcdef-ghi 2')).toBe(`1 ${REDACTED} 2`);
    });

    it('merges adjacent occurrences into one mask', () => {
      expect(redactor.redactText(`${SECRET}${SECRET}`)).toBe(REDACTED);
    });
  });

  describe('key-based', () => {
    it.each([
      ['password'], ['Password'], ['db_passwd'], ['clientSecret'], ['access_token'], ['apikey'], ['API_KEY'],
      ['Authorization'], ['proxy-authorization'], ['cookie'], ['set-cookie'], ['private_key'], ['credentials'],
      ['sessionId'], ['X-Session'],
    ])('replaces the whole value of %s', (key) => {
      for (const value of ['s3cret-value', 42, true, null, { a: 1 }, ['x', 'y']]) {
        expect(redactor.redact({ [key]: value, other: 'kept' })).toEqual({ [key]: REDACTED, other: 'kept' });
      }
    });

    it('applies at any depth, inside arrays too', () => {
      expect(redactor.redact({ a: [{ b: { headers: { Authorization: 'Bearer abc' } } }] })).toEqual({
        a: [{ b: { headers: { Authorization: REDACTED } } }],
      });
    });

    it.each([['x-api-key'], ['X-Api-Key'], ['auth'], ['key'], ['pass']])(
      'leaves %s alone: it contains none of the contract fragments',
      (key) => {
        expect(redactor.redact({ [key]: 'visible' })).toEqual({ [key]: 'visible' });
      },
    );

    it('uses exactly the contract list by default', () => {
      expect(DEFAULT_SENSITIVE_KEYS).toEqual([
        'password', 'passwd', 'secret', 'token', 'apikey', 'api_key', 'authorization',
        'cookie', 'private_key', 'credential', 'session',
      ]);
    });

    it('takes a configured list instead', () => {
      const r = createRedactor({ secrets: [], sensitiveKeys: [...DEFAULT_SENSITIVE_KEYS, 'api-key'] });
      expect(r.redact({ 'X-Api-Key': 'k', password: 'p', user: 'u' })).toEqual({ 'X-Api-Key': REDACTED, password: REDACTED, user: 'u' });
      const only = createRedactor({ secrets: [], sensitiveKeys: ['pin'] });
      expect(only.redact({ PIN: '1234', password: 'p' })).toEqual({ PIN: REDACTED, password: 'p' });
    });

    it('is off with an empty list', () => {
      expect(createRedactor({ secrets: [], sensitiveKeys: [] }).redact({ password: 'p' })).toEqual({ password: 'p' });
    });

    it('treats a fragment literally, not as a pattern', () => {
      const r = createRedactor({ secrets: [], sensitiveKeys: ['a.b'] });
      expect(r.redact({ 'x-a.b': 1, axb: 2 })).toEqual({ 'x-a.b': REDACTED, axb: 2 });
    });

    it('refuses an empty fragment, which would match every key', () => {
      expect(() => createRedactor({ secrets: [], sensitiveKeys: ['token', ''] })).toThrow(/non-empty/);
    });
  });

  describe('refusing short secrets', () => {
    it.each([[''], ['a'], ['12345'], ['abcd\n'], ['😀😀😀😀😀']])('refuses %j', (value) => {
      let caught: unknown;
      try {
        createRedactor({ secrets: ['long-enough-1', value] });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SecretRefusedError);
      const err = caught as SecretRefusedError;
      expect(err.code).toBe('secret_too_short');
      expect(err.message).toBe('secret #2 of the list is shorter than 6 characters: it cannot be masked without masking everything');
    });

    it('names a named secret, and never shows its value', () => {
      expect(() => createRedactor({ secrets: [{ name: 'STRIPE_KEY', value: 'sk_12' }] })).toThrow(
        'secret "STRIPE_KEY" is shorter than 6 characters: it cannot be masked without masking everything',
      );
    });

    it('refuses a short secret added at run time and keeps working', () => {
      const r = createRedactor({ secrets: [SECRET] });
      expect(() => r.addSecret('abc')).toThrow(/secret added at run time is shorter than 6 characters/);
      expect(() => r.addSecret({ name: 'otp', value: '1234' })).toThrow(/^secret "otp" is shorter/);
      expect(r.redactText(`${SECRET} abc`)).toBe(`${REDACTED} abc`);
    });

    it('accepts 6 characters', () => {
      expect(createRedactor({ secrets: ['abcdef'] }).redactText('xabcdefx')).toBe(`x${REDACTED}x`);
    });

    it('refuses a value that is not a string', () => {
      expect(() => createRedactor({ secrets: [{ name: 'N', value: 123456 as unknown as string }] })).toThrow(/secret "N" is not a string/);
    });
  });

  describe('addSecret', () => {
    it('masks a secret added after creation, in every form', () => {
      const r = createRedactor({ secrets: [] });
      const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-part_xyz';
      expect(r.redactText(jwt)).toBe(jwt);
      r.addSecret(jwt);
      expect(r.redactText(`token=${jwt}`)).toBe(`token=${REDACTED}`);
      expect(r.redactText(b64(`u:${jwt}`))).toContain(REDACTED);
      r.addSecret({ name: 'SECOND', value: 'second-secret' });
      expect(r.redactText(`${jwt} second-secret`)).toBe(`${REDACTED} ${REDACTED}`);
    });

    it('ignores a secret it already knows', () => {
      const r = createRedactor({ secrets: [SECRET] });
      r.addSecret(SECRET);
      expect(r.redactText(SECRET)).toBe(REDACTED);
    });
  });

  describe('structure', () => {
    it('never mutates the input and returns a deep copy', () => {
      const input = { a: [SECRET, { token: 'x', n: 1 }], b: { c: `pre ${SECRET}` }, [SECRET]: true };
      const before = structuredClone(input);
      const out = redactor.redact(input);
      expect(input).toEqual(before);
      expect(out).not.toBe(input);
      expect(out.a).not.toBe(input.a);
      expect(out.b).not.toBe(input.b);
    });

    it('returns values without secrets or sensitive keys deep-equal', () => {
      const input = { id: 7, name: 'ana', tags: ['a', 'b'], nested: { ok: true, none: null, n: -0.5, list: [[1], []] } };
      const out = redactor.redact(input);
      expect(out).toStrictEqual(input);
      expect(out.nested).not.toBe(input.nested);
    });

    it('leaves non-string primitives unchanged', () => {
      for (const value of [0, -1.5, 1e21, true, false, null, undefined, 12n]) expect(redactor.redact(value)).toBe(value);
    });

    it('masks a number whose digits are a secret', () => {
      const r = createRedactor({ secrets: ['20241231'] });
      expect(r.redact({ pin: 'x', code: 20241231, other: 7, big: 9920241231n })).toEqual({ pin: 'x', code: REDACTED, other: 7, big: REDACTED });
    });

    it('keeps a "__proto__" key as an own key (JSON.parse makes one)', () => {
      const input = JSON.parse(`{"__proto__": {"v": ${JSON.stringify(SECRET)}}}`) as Record<string, unknown>;
      const out = redactor.redact(input);
      expect(Object.keys(out)).toEqual(['__proto__']);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(JSON.stringify(out)).toBe(`{"__proto__":{"v":"${REDACTED}"}}`);
    });

    it('replaces what lies deeper than maxDepth by [REDACTED]', () => {
      const r = createRedactor({ secrets: [], maxDepth: 2 });
      expect(r.redact({ a: { b: { c: 1 } }, d: 1 })).toEqual({ a: { b: REDACTED }, d: 1 });
    });

    it('survives a cycle', () => {
      const a: Record<string, unknown> = { name: SECRET };
      a.self = a;
      expect(redactor.redact(a)).toEqual({ name: REDACTED, self: '[Circular]' });
    });

    it('writes an Error as name, message and stack, redacted', () => {
      const err = Object.assign(new Error(`login failed for ${SECRET}`), { code: 'E_AUTH' });
      const out = redactor.redact({ err }) as unknown as { err: Record<string, string> };
      expect(out.err.name).toBe('Error');
      expect(out.err.message).toBe(`login failed for ${REDACTED}`);
      expect(out.err.code).toBe('E_AUTH');
      expect(out.err.stack).toContain(`Error: login failed for ${REDACTED}`);
      expect(JSON.stringify(out)).not.toContain(SECRET);
    });

    it('redacts objects with toJSON as their JSON form', () => {
      expect(redactor.redact({ at: new Date(0) })).toEqual({ at: '1970-01-01T00:00:00.000Z' });
    });
  });

  describe('#redactText', () => {
    it('redacts a stack trace', () => {
      const stack = `Error: request to https://api.example.com/?key=${encodeURIComponent(SECRET)} failed\n    at fetch (node:internal)`;
      expect(redactor.redactText(stack)).toBe(`Error: request to https://api.example.com/?key=${REDACTED} failed\n    at fetch (node:internal)`);
    });

    it('returns text without secrets unchanged, and works without any secret', () => {
      expect(redactor.redactText('nothing to see')).toBe('nothing to see');
      expect(createRedactor({ secrets: [] }).redactText(SECRET)).toBe(SECRET);
    });

    it('never matches inside [REDACTED] again (idempotent)', () => {
      const once = redactor.redactText(`a ${SECRET} b`);
      expect(redactor.redactText(once)).toBe(once);
    });
  });
});
