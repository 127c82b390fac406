/**
 * Redaction cost per KiB of a realistic run event (a `node.completed` carrying an
 * HTTP response), with 10 secrets loaded, as a ratio to `JSON.stringify` of the same
 * event measured in the same invocation — the ratio is what stays comparable across
 * machines.
 *
 * Run alone: `npm run build && node dist/bench/redaction.js [--quick]`.
 */
import { createRedactor } from '../src/redaction';

/** Ten secrets of the shapes a workflow typically holds. */
const SECRETS: readonly string[] = [
  'sk_live_51HqLyjWDarjtT1zdp7dcXvYwBq0fWmP3',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMtYmlsbGluZyJ9.5mhBHqs5_DTLdINd9p5m7ZJ6XD0Xc55kIaCRY5r6HRA',
  'correct horse battery staple',
  'postgres://app:Zx9!q2#LmP@db.internal:5432/app',
  'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'xoxb-2048-1024-T1a2B3c4D5e6F7g8H9i0J',
  '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+XQ\n-----END PRIVATE KEY-----',
  'Pa$$w0rd-älvsjö-2024',
];

interface Customer {
  id: number;
  name: string;
  email: string;
  plan: string;
  active: boolean;
  balanceCents: number;
  tags: string[];
  address: { street: string; city: string; zip: string; country: string };
  createdAt: string;
}

function customer(i: number): Customer {
  return {
    id: 10_000 + i,
    name: `Customer ${i} Lindqvist-Okafor`,
    email: `customer${i}@example.com`,
    plan: i % 3 === 0 ? 'enterprise' : 'team',
    active: i % 5 !== 0,
    balanceCents: (i * 7919) % 100_000,
    tags: ['priority', `region-${i % 4}`],
    address: { street: `${i} Harbour Road`, city: 'Gothenburg', zip: '41101', country: 'SE' },
    createdAt: new Date(Date.UTC(2024, 0, 1 + (i % 28))).toISOString(),
  };
}

/** A `node.completed` event whose JSON is about `targetBytes` long. */
function makeEvent(targetBytes: number): unknown {
  const body: { page: number; customers: Customer[]; note: string } = {
    page: 1,
    customers: [],
    // one secret actually present, as a misbehaving upstream would echo it
    note: `upstream echoed key ${SECRETS[0]} in its debug field`,
  };
  const event = {
    type: 'event',
    runId: 'run_V1StGXR8_Z5jdHi6B',
    seq: 7,
    ts: '2025-01-01T12:00:00.000Z',
    event: {
      kind: 'node.completed',
      nodeId: 'fetch_customers',
      durationMs: 182,
      output: {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-request-id': 'a1b2c3d4e5', 'set-cookie': 'sid=abcdef123456; HttpOnly' },
        body,
      },
    },
  };
  let i = 0;
  while (JSON.stringify(event).length < targetBytes) body.customers.push(customer(i++));
  return event;
}

/** Nanoseconds per call of `fn`, over one batch of about `batchMs`. */
function batch(fn: () => unknown, batchMs: number): number {
  let calls = 0;
  const start = process.hrtime.bigint();
  const deadline = performance.now() + batchMs;
  do {
    for (let i = 0; i < 8; i += 1) fn();
    calls += 8;
  } while (performance.now() < deadline);
  return Number(process.hrtime.bigint() - start) / calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Alternating batches of `fn` and of `baseline`: medians of each and of the ratio of
 * neighbouring batches, so a busy machine slows both sides of each ratio alike.
 */
function compare(fn: () => unknown, baseline: () => unknown, rounds: number, batchMs: number): { ns: number; baselineNs: number; ratio: number } {
  batch(fn, batchMs);
  batch(baseline, batchMs);
  const ns: number[] = [];
  const baseNs: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const b = batch(baseline, batchMs);
    const f = batch(fn, batchMs);
    baseNs.push(b);
    ns.push(f);
    ratios.push(f / b);
  }
  return { ns: median(ns), baselineNs: median(baseNs), ratio: median(ratios) };
}

/**
 * Measures, for events of ~1 KiB and ~16 KiB: `redact()` µs per KiB, `JSON.stringify`
 * µs per KiB and their ratio (median of alternating batches), and the ratio for
 * redacting the serialised line instead (`redactText(JSON.stringify(event))`, the
 * logger-style path); and the time to build a redactor for 10 secrets.
 * `quick` takes about 1.5 s, a full run about 8 s.
 */
export async function benchRedaction(opts: { quick: boolean }): Promise<Record<string, number>> {
  const rounds = opts.quick ? 9 : 31;
  const batchMs = opts.quick ? 10 : 25;
  const results: Record<string, number> = {};
  const redactor = createRedactor({ secrets: SECRETS });

  const build = compare(() => createRedactor({ secrets: SECRETS }), () => undefined, opts.quick ? 3 : 9, batchMs * 2);
  results['redaction.build10SecretsMs'] = round(build.ns / 1e6);

  for (const [label, bytes] of [['1KiB', 1024], ['16KiB', 16 * 1024]] as const) {
    const event = makeEvent(bytes);
    const kib = JSON.stringify(event).length / 1024;
    const redacted = JSON.stringify(redactor.redact(event));
    if (redacted.includes(SECRETS[0] as string)) throw new Error('bench: the planted secret was not redacted');

    const stringify = (): string => JSON.stringify(event);
    const structured = compare(() => redactor.redact(event), stringify, rounds, batchMs);
    const text = compare(() => redactor.redactText(JSON.stringify(event)), stringify, rounds, batchMs);
    results[`redaction.${label}.redactUsPerKiB`] = round(structured.ns / 1e3 / kib);
    results[`redaction.${label}.stringifyUsPerKiB`] = round(structured.baselineNs / 1e3 / kib);
    results[`redaction.${label}.ratioToStringify`] = round(structured.ratio);
    results[`redaction.${label}.stringifyThenRedactTextRatio`] = round(text.ratio);
  }
  return results;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

if (require.main === module) {
  benchRedaction({ quick: process.argv.includes('--quick') }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
