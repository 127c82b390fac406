import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { createRedactor, DEFAULT_SENSITIVE_KEYS, REDACTED } from '../../../src/redaction';

/**
 * Every form of `secret` the contract names (PROTOCOL.md section 6), at least 6
 * characters long — computed here independently of the implementation. For base64
 * the forms are the characters that depend on the secret alone at each alignment.
 */
function contractForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [secret, JSON.stringify(secret).slice(1, -1)];
  for (let p = 0; p < 3; p += 1) {
    const std = Buffer.concat([Buffer.alloc(p), bytes]).toString('base64');
    const core = std.slice(Math.ceil((8 * p) / 6), Math.floor((8 * (p + bytes.length)) / 6));
    forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  forms.push(bytes.toString('hex'), bytes.toString('hex').toUpperCase());
  const url = encodeURIComponent(secret);
  const every = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
  forms.push(url, url.replace(/%20/g, '+'), every, every.toLowerCase());
  forms.push(...linesOf(secret));
  return forms.filter((f) => [...f].length >= 6);
}

function linesOf(secret: string): string[] {
  return /[\r\n]/.test(secret) ? secret.split(/\r\n|\r|\n/).filter((l) => [...l].length >= 6) : [];
}

/** One character of a secret or of the text around it: ASCII, specials, any grapheme, any code point. */
const charArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') },
  { weight: 2, arbitrary: fc.constantFrom(' ', '\n', '\r\n', '\t', '"', '\\', '/', '+', '=', '%', '&', '?', '~', ':', '-', '_', '.', 'é', 'ß', '€', '中', '😀', '\u0000', '\u2028') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const secretArb = fc
  .string({ unit: charArb, minLength: 6, maxLength: 40 })
  // A secret that is (a form that is) part of the mask itself cannot be told from it.
  .filter((s) => contractForms(s).every((f) => !REDACTED.includes(f)));
const textArb = fc.string({ unit: charArb, maxLength: 8 });

const kinds = ['raw', 'json', 'base64', 'base64url', 'hex', 'HEX', 'url', 'url+', 'everyByte', 'everybyte', 'line'] as const;
type Kind = (typeof kinds)[number];

/** The secret in form `kind`, wrapped in `prefix`/`suffix` the way that form is produced. */
function plant(secret: string, kind: Kind, prefix: string, suffix: string, lineIndex: number): string {
  const whole = prefix + secret + suffix;
  const every = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
  switch (kind) {
    case 'raw':
      return whole;
    case 'json':
      return JSON.stringify({ field: whole });
    case 'base64':
      return Buffer.from(whole, 'utf8').toString('base64');
    case 'base64url':
      return Buffer.from(whole, 'utf8').toString('base64url');
    case 'hex':
      return prefix + Buffer.from(secret, 'utf8').toString('hex') + suffix;
    case 'HEX':
      return prefix + Buffer.from(secret, 'utf8').toString('hex').toUpperCase() + suffix;
    case 'url':
      return encodeURIComponent(whole);
    case 'url+':
      return encodeURIComponent(whole).replace(/%20/g, '+');
    case 'everyByte':
      return prefix + every(secret) + suffix;
    case 'everybyte':
      return prefix + every(secret).toLowerCase() + suffix;
    case 'line': {
      const lines = linesOf(secret);
      return lines.length === 0 ? whole : prefix + (lines[lineIndex % lines.length] as string) + suffix;
    }
  }
}

const plantArb = fc.record({
  secret: fc.nat(),
  kind: fc.constantFrom(...kinds),
  prefix: textArb,
  suffix: textArb,
  where: fc.nat(),
  asKey: fc.boolean(),
  line: fc.nat(),
});

const jsonArb = fc.jsonValue({ maxDepth: 4, stringUnit: 'grapheme' });

function containers(value: unknown, out: Array<unknown[] | Record<string, unknown>> = []): Array<unknown[] | Record<string, unknown>> {
  if (Array.isArray(value)) {
    out.push(value);
    for (const item of value) containers(item, out);
  } else if (value !== null && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    for (const item of Object.values(value)) containers(item, out);
  }
  return out;
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

function hasSensitiveKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasSensitiveKey);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(
      ([k, v]) => DEFAULT_SENSITIVE_KEYS.some((f) => k.toLowerCase().includes(f)) || hasSensitiveKey(v),
    );
  }
  return false;
}

const RUNS = 300;
/**
 * 300 runs take about 3 s. A failure found among the random inputs can take minutes
 * to shrink (the inputs are big); the time limit stops shrinking and still reports
 * the smallest counterexample found so far.
 */
const OPTIONS = { numRuns: RUNS, interruptAfterTimeLimit: 15_000 };

describe('createRedactor (properties)', () => {
  it('leaves no form of any secret anywhere, wherever and however it was planted', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(secretArb, { minLength: 1, maxLength: 4 }),
        jsonArb,
        fc.array(plantArb, { minLength: 1, maxLength: 8 }),
        (secrets, base, plants) => {
          const root: unknown[] = [base];
          const places = containers(root);
          plants.forEach((p, i) => {
            const text = plant(secrets[p.secret % secrets.length] as string, p.kind, p.prefix, p.suffix, p.line);
            const place = places[p.where % places.length] as unknown[] | Record<string, unknown>;
            if (Array.isArray(place)) place.push(p.asKey ? { [text]: i } : text);
            else if (p.asKey) place[text] = i;
            else place[`planted${i}`] = text;
          });
          const before = structuredClone(root);

          const out = createRedactor({ secrets }).redact(root);

          expect(root).toEqual(before);
          const serialised = JSON.stringify(out);
          const texts = strings(out);
          for (const secret of secrets) {
            for (const form of contractForms(secret)) {
              if (serialised.includes(form) || texts.some((t) => t.includes(form))) {
                throw new Error(`form ${JSON.stringify(form)} of secret ${JSON.stringify(secret)} survived: ${serialised}`);
              }
            }
          }
        },
      ),
      OPTIONS,
    );
  });

  it('returns a value with no secret and no sensitive key deep-equal, without mutating it', () => {
    fc.assert(
      fc.property(fc.uniqueArray(secretArb, { minLength: 1, maxLength: 4 }), jsonArb, (secrets, value) => {
        const texts = strings(value);
        fc.pre(!hasSensitiveKey(value));
        fc.pre(!secrets.some((s) => contractForms(s).some((f) => texts.some((t) => t.includes(f)))));
        const before = structuredClone(value);

        const out = createRedactor({ secrets }).redact(value);

        expect(out).toStrictEqual(value);
        expect(value).toStrictEqual(before);
      }),
      OPTIONS,
    );
  });
});
