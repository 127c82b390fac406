import fc from 'fast-check';
import type { ClientMessage, RunInput } from '../../../src/protocol/messages';
import type { WorkflowDefinition } from '../../../src/protocol/workflow';
import { clientMessageTypes, parseClientMessage, type ParseResult } from '../../../src/protocol/validate';

const FAILURE_CODES = ['bad_json', 'invalid_message', 'unknown_type'];

/** What every result must look like, whatever the input. */
function expectWellFormed(result: ParseResult): void {
  if (result.ok) {
    expect(typeof result.message).toBe('object');
    expect(clientMessageTypes).toContain(result.message.type);
    return;
  }
  expect(FAILURE_CODES).toContain(result.code);
  expect(typeof result.message).toBe('string');
  if (result.id !== undefined) {
    expect(typeof result.id).toBe('string');
    expect(Array.from(result.id).length).toBeGreaterThanOrEqual(1);
    expect(Array.from(result.id).length).toBeLessThanOrEqual(64);
  }
  if (result.code === 'invalid_message') {
    expect(result.details?.length).toBeGreaterThan(0);
    for (const detail of result.details ?? []) {
      expect(detail.path).toMatch(/^\//);
      expect(typeof detail.message).toBe('string');
    }
  }
  if (result.code === 'bad_json') expect(result.details).toBeUndefined();
}

const parse = (text: string): ParseResult => {
  let result: ParseResult | undefined;
  expect(() => {
    result = parseClientMessage(text);
  }).not.toThrow();
  return result as ParseResult;
};

// --- generators of valid messages ----------------------------------------------------

const messageId = fc.string({ unit: 'binary', minLength: 1, maxLength: 64 });
const identifier = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const runId = fc.string({ minLength: 1, maxLength: 128 });
const stringMap = fc.dictionary(fc.string(), fc.string(), { maxKeys: 4 });

const input: fc.Arbitrary<RunInput> = fc.record(
  {
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
    path: fc.string(),
    headers: stringMap,
    query: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    params: stringMap,
    body: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);

const workflow: fc.Arbitrary<WorkflowDefinition> = fc.record(
  {
    id: identifier,
    name: fc.string({ minLength: 1, maxLength: 200 }),
    workspace: fc.string({ minLength: 1, maxLength: 128 }),
    nodes: fc.array(
      fc.record(
        {
          id: identifier,
          type: fc.constantFrom('api.start', 'logic', 'condition', 'loop', 'api.response'),
          name: fc.string({ maxLength: 200 }),
          config: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
        },
        { requiredKeys: ['id', 'type'] },
      ),
      { maxLength: 4 },
    ),
    edges: fc.array(
      fc.record(
        { from: identifier, to: identifier, when: fc.constantFrom('true' as const, 'false' as const, 'each' as const, 'done' as const) },
        { requiredKeys: ['from', 'to'] },
      ),
      { maxLength: 4 },
    ),
  },
  { requiredKeys: ['id', 'nodes', 'edges'] },
);

const runOptions = { input, breakpoints: fc.array(identifier, { maxLength: 3 }) };

const validMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record({ type: fc.constant('auth' as const), token: fc.string({ minLength: 1 }) }),
  fc.record(
    { type: fc.constant('run' as const), id: messageId, workflowId: identifier, ...runOptions },
    { requiredKeys: ['type', 'id', 'workflowId'] },
  ),
  fc.record(
    { type: fc.constant('run' as const), id: messageId, workflow, ...runOptions },
    { requiredKeys: ['type', 'id', 'workflow'] },
  ),
  fc.record(
    { type: fc.constant('subscribe' as const), id: messageId, runId, fromSeq: fc.maxSafeNat() },
    { requiredKeys: ['type', 'id', 'runId'] },
  ),
  fc.record({ type: fc.constant('unsubscribe' as const), id: messageId, runId }),
  fc.record({ type: fc.constant('cancel' as const), id: messageId, runId }),
  fc.record(
    { type: fc.constant('continue' as const), id: messageId, runId, step: fc.boolean() },
    { requiredKeys: ['type', 'id', 'runId'] },
  ),
  fc.record({ type: fc.constant('ping' as const), id: messageId }),
);

/** Objects shaped like messages but with arbitrary members: exercises every validator. */
const messageLike = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...clientMessageTypes), fc.string(), fc.jsonValue({ maxDepth: 1 })),
    id: fc.oneof(messageId, fc.string(), fc.jsonValue({ maxDepth: 1 })),
    token: fc.jsonValue({ maxDepth: 1 }),
    runId: fc.oneof(runId, fc.jsonValue({ maxDepth: 1 })),
    fromSeq: fc.oneof(fc.integer(), fc.double(), fc.jsonValue({ maxDepth: 1 })),
    step: fc.jsonValue({ maxDepth: 1 }),
    workflowId: fc.oneof(identifier, fc.jsonValue({ maxDepth: 1 })),
    workflow: fc.oneof(workflow, fc.jsonValue({ maxDepth: 3 })),
    input: fc.oneof(input, fc.jsonValue({ maxDepth: 2 })),
    breakpoints: fc.jsonValue({ maxDepth: 2 }),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

describe('parseClientMessage (properties)', () => {
  it('never throws on arbitrary strings and always answers ok or a known code', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expectWellFormed(parse(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary JSON text', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        const result = parse(text);
        expectWellFormed(result);
        expect(result.ok === false && result.code === 'bad_json').toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary message-like objects, and never lets an invalid id through', () => {
    fc.assert(
      fc.property(messageLike, (value) => {
        const result = parse(JSON.stringify(value));
        expectWellFormed(result);
      }),
      { numRuns: 500 },
    );
  });

  it('reports objects without a string type as invalid_message and unknown string types as unknown_type', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 })).filter((o) => !clientMessageTypes.includes(o.type as never)),
        (value) => {
          const result = parse(JSON.stringify(value));
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.code).toBe(typeof value.type === 'string' ? 'unknown_type' : 'invalid_message');
        },
      ),
    );
  });

  it('accepts every valid message and returns it unchanged', () => {
    fc.assert(
      fc.property(validMessage, (message) => {
        const text = JSON.stringify(message);
        expect(parse(text)).toEqual({ ok: true, message: JSON.parse(text) });
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses every valid message with one extra member, echoing its id', () => {
    fc.assert(
      fc.property(validMessage, fc.string().filter((k) => k !== '__proto__'), fc.jsonValue({ maxDepth: 1 }), (message, key, value) => {
        fc.pre(!(key in message));
        const result = parse(JSON.stringify({ ...message, [key]: value }));
        expect(result).toMatchObject({ ok: false, code: 'invalid_message' });
        if (!result.ok && 'id' in message) expect(result.id).toBe(message.id);
      }),
      { numRuns: 1000 },
    );
  });
});
