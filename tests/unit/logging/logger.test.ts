import { Buffer } from 'node:buffer';
import { PassThrough } from 'node:stream';
import type winston from 'winston';
import { createLogger } from '../../../src/logging/logger';
import { createRedactor, REDACTED, type Redactor } from '../../../src/redaction';

const SECRET = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const LATE_SECRET = 'eyJhbGciOiJIUzI1NiJ9.late-jwt.sig';

/** A logger writing to a real stream, and a way to await its next lines (no sleeps). */
function harness(redactor: () => Redactor | undefined, level = 'debug') {
  const stream = new PassThrough();
  const lines: string[] = [];
  const waiters: Array<{ count: number; resolve: (lines: string[]) => void }> = [];
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    for (const w of [...waiters]) {
      if (lines.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(lines.slice(0, w.count));
      }
    }
  });
  const logger: winston.Logger = createLogger({ level, redactor, stream });
  const read = (count: number): Promise<string[]> =>
    lines.length >= count ? Promise.resolve(lines.slice(0, count)) : new Promise((resolve) => waiters.push({ count, resolve }));
  return { logger, read, lines };
}

const withSecret = () => createRedactor({ secrets: [{ name: 'STRIPE_KEY', value: SECRET }] });

function expectClean(line: string): void {
  expect(line).not.toContain(SECRET);
  expect(line).not.toContain(JSON.stringify(SECRET).slice(1, -1));
  expect(line).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 40));
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, message and timestamp first', async () => {
    const { logger, read } = harness(withSecret);
    logger.info('started', { port: 8080 });
    const [line] = await read(1);
    const entry = JSON.parse(line as string) as Record<string, unknown>;
    expect(Object.keys(entry)).toEqual(['level', 'message', 'timestamp', 'port']);
    expect(entry).toMatchObject({ level: 'info', message: 'started', port: 8080 });
    expect(new Date(entry.timestamp as string).toISOString()).toBe(entry.timestamp);
  });

  it('redacts a secret in the message', async () => {
    const { logger, read } = harness(withSecret);
    logger.warn(`calling upstream with ${SECRET}`);
    const [line] = await read(1);
    expectClean(line as string);
    expect(JSON.parse(line as string).message).toBe(`calling upstream with ${REDACTED}`);
  });

  it('redacts %s and %j arguments after interpolating them', async () => {
    const { logger, read } = harness(withSecret);
    logger.info('key %s in %j', SECRET, { nested: SECRET });
    const [line] = await read(1);
    expectClean(line as string);
    expect(JSON.parse(line as string).message).toBe(`key ${REDACTED} in {"nested":"${REDACTED}"}`);
  });

  it('redacts metadata by value and by key, keys included', async () => {
    const { logger, read } = harness(withSecret);
    logger.info('request', {
      url: `https://api.example.com/?key=${encodeURIComponent(SECRET)}`,
      headers: { Authorization: 'Bearer abc', 'content-type': 'application/json' },
      body: JSON.stringify({ key: SECRET }),
      [SECRET]: 'as a key',
      password: 12345,
    });
    const [line] = await read(1);
    expectClean(line as string);
    expect(JSON.parse(line as string)).toMatchObject({
      url: `https://api.example.com/?key=${REDACTED}`,
      headers: { Authorization: REDACTED, 'content-type': 'application/json' },
      body: `{"key":"${REDACTED}"}`,
      [REDACTED]: 'as a key',
      password: REDACTED,
    });
  });

  it('serialises an Error passed as meta with message and stack, redacted', async () => {
    const { logger, read } = harness(withSecret);
    const err = Object.assign(new Error(`charge failed for ${SECRET}`), { code: 'E_UPSTREAM' });
    logger.error('upstream failed', { err });
    const [line] = await read(1);
    expectClean(line as string);
    const entry = JSON.parse(line as string) as { message: string; err: Record<string, string> };
    expect(entry.message).toBe('upstream failed');
    expect(entry.err.name).toBe('Error');
    expect(entry.err.message).toBe(`charge failed for ${REDACTED}`);
    expect(entry.err.code).toBe('E_UPSTREAM');
    expect(entry.err.stack).toMatch(new RegExp(`^Error: charge failed for \\[REDACTED\\]\\n\\s+at `));
  });

  it('serialises an Error logged on its own and one passed as the only meta', async () => {
    const { logger, read } = harness(withSecret);
    logger.error(new Error(`boom ${SECRET}`));
    logger.error('while charging:', new Error(`bang ${SECRET}`));
    const [own, meta] = (await read(2)).map((l) => JSON.parse(l) as Record<string, string>);
    for (const entry of [own, meta]) expectClean(JSON.stringify(entry));
    expect(own?.message).toBe(`boom ${REDACTED}`);
    expect(own?.stack).toMatch(/^Error: boom \[REDACTED\]\n/);
    expect(meta?.message).toBe(`while charging: bang ${REDACTED}`);
    expect(meta?.stack).toMatch(/^Error: bang \[REDACTED\]\n/);
  });

  it('redacts a cause chain', async () => {
    const { logger, read } = harness(withSecret);
    logger.error('outer', { err: new Error('outer', { cause: new Error(`inner ${SECRET}`) }) });
    const [line] = await read(1);
    expectClean(line as string);
    expect(JSON.parse(line as string).err.cause.message).toBe(`inner ${REDACTED}`);
  });

  it('applies the default key list when the getter has no redactor yet', async () => {
    const { logger, read } = harness(() => undefined);
    logger.info('boot', { token: 'abc', user: 'ana' });
    const [line] = await read(1);
    expect(JSON.parse(line as string)).toMatchObject({ token: REDACTED, user: 'ana' });
  });

  it('asks the getter at every line, so secrets loaded or added later are masked', async () => {
    let current: Redactor | undefined;
    const { logger, read } = harness(() => current);
    logger.info(`before ${SECRET}`);
    current = withSecret();
    logger.info(`after ${SECRET}`);
    current.addSecret(LATE_SECRET);
    logger.info(`jwt ${LATE_SECRET}`);
    const [before, after, late] = (await read(3)).map((l) => JSON.parse(l).message as string);
    expect(before).toBe(`before ${SECRET}`);
    expect(after).toBe(`after ${REDACTED}`);
    expect(late).toBe(`jwt ${REDACTED}`);
  });

  it('lets no transport see the unredacted entry', async () => {
    const { logger, read } = harness(withSecret);
    const seen: unknown[] = [];
    logger.on('data', (info: unknown) => seen.push(info));
    logger.info(`x ${SECRET}`, { nested: { v: SECRET } });
    await read(1);
    expect(seen).toHaveLength(1);
    const info = seen[0] as Record<string | symbol, unknown>;
    const all = [...Object.keys(info), ...Object.getOwnPropertySymbols(info)].map((k) => info[k as string]);
    expect(JSON.stringify(all)).not.toContain(SECRET);
    expect(info[Symbol.for('splat')]).toBeUndefined();
  });

  it('drops an entry rather than write it unredacted when redaction fails', async () => {
    const broken: Redactor = {
      redact: () => {
        throw new Error('bug');
      },
      redactText: (t) => t,
      addSecret: () => undefined,
    };
    const { logger, read } = harness(() => broken);
    logger.info(`x ${SECRET}`);
    const [line] = await read(1);
    expectClean(line as string);
    expect(JSON.parse(line as string)).toMatchObject({ level: 'error', message: '[log entry dropped: redaction failed]' });
  });

  it('writes bigint metadata as a string instead of failing', async () => {
    const { logger, read } = harness(withSecret);
    logger.info('big', { n: 10n ** 20n });
    const [line] = await read(1);
    expect(JSON.parse(line as string).n).toBe('100000000000000000000');
  });

  it('honours the level', async () => {
    const { logger, read, lines } = harness(withSecret, 'warn');
    logger.info('hidden');
    logger.debug('hidden too');
    logger.warn('shown');
    await read(1);
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['shown']);
  });

  it('refuses an unknown level', () => {
    expect(() => createLogger({ level: 'loud', redactor: withSecret, stream: new PassThrough() })).toThrow(
      'log level "loud" is not one of error, warn, info, http, verbose, debug, silly',
    );
  });
});
