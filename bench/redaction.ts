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

/** Mean nanoseconds per call of `fn`, over about `budgetMs` after a warm-up. */
function measure(fn: () => unknown, budgetMs: number): number {
  const warmUntil = performance.now() + budgetMs / 4;
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = process.hrtime.bigint();
  const deadline = performance.now() + budgetMs;
  while (performance.now() < deadline) {
    for (let i = 0; i < 16; i += 1) fn();
    calls += 16;
  }
  return Number(process.hrtime.bigint() - start) / calls;
}

/**
 * Measures, for events of ~1 KiB and ~16 KiB: redaction µs per KiB, JSON.stringify
 * µs per KiB and their ratio; and the time to build the matcher for 10 secrets.
 * `quick` shortens every measurement (about 2 s in all instead of about 8 s).
 */
export async function benchRedaction(opts: { quick: boolean }): Promise<Record<string, number>> {
  const budgetMs = opts.quick ? 150 : 600;
  const results: Record<string, number> = {};
  const redactor = createRedactor({ secrets: SECRETS });

  const buildNs = measure(() => createRedactor({ secrets: SECRETS }), budgetMs);
  results['redaction.build10SecretsMs'] = round(buildNs / 1e6);

  for (const [label, bytes] of [['1KiB', 1024], ['16KiB', 16 * 1024]] as const) {
    const event = makeEvent(bytes);
    const kib = JSON.stringify(event).length / 1024;
    const redacted = JSON.stringify(redactor.redact(event));
    if (redacted.includes(SECRETS[0] as string)) throw new Error('bench: the planted secret was not redacted');

    const stringifyNs = measure(() => JSON.stringify(event), budgetMs);
    const redactNs = measure(() => redactor.redact(event), budgetMs);
    const textNs = measure(() => redactor.redactText(JSON.stringify(event)), budgetMs);
    results[`redaction.${label}.redactUsPerKiB`] = round(redactNs / 1e3 / kib);
    results[`redaction.${label}.stringifyUsPerKiB`] = round(stringifyNs / 1e3 / kib);
    results[`redaction.${label}.ratioToStringify`] = round(redactNs / stringifyNs);
    results[`redaction.${label}.stringifyThenRedactTextRatio`] = round(textNs / stringifyNs);
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
