import type { ErrorObject } from 'ajv';
import { parseClientMessage, toProblemDetails } from '../../../src/protocol/validate';
import type { ClientMessage } from '../../../src/protocol/messages';
import type { WorkflowDefinition } from '../../../src/protocol/workflow';

const id65 = 'x'.repeat(65);
const id64 = 'y'.repeat(64);
const j = (value: unknown): string => JSON.stringify(value);

const workflow: WorkflowDefinition = {
  id: 'hello',
  name: 'Hello',
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'GET', path: '/hello' } },
    { id: 'respond', type: 'api.response', config: { body: { hello: 'world' } } },
  ],
  edges: [{ from: 'start', to: 'respond' }],
};
const withWorkflow = (patch: Record<string, unknown>): string => j({ type: 'run', id: 'r', workflow: { ...workflow, ...patch } });

describe('parseClientMessage', () => {

  // The shape of an inline workflow is not the message's business: the run service
  // validates the definition and answers `workflow_invalid` with every problem.
  it.each([
    ['without nodes', j({ type: 'run', id: 'r', workflow: { id: 'w', edges: [] } })],
    ['with a bad id', withWorkflow({ id: 'a/b' })],
    ['with a bad node id', withWorkflow({ nodes: [{ id: 'no spaces', type: 'api.start' }] })],
    ['with an edge labelled "maybe"', withWorkflow({ edges: [{ from: 'start', to: 'respond', when: 'maybe' }] })],
    ['with edges that are not an array', withWorkflow({ edges: {} })],
  ])('leaves a run whose workflow is malformed (%s) to workflow validation', (_name, text) => {
    const result = parseClientMessage(text);
    expect(result.ok).toBe(true);
  });
  describe('refuses text that is not JSON with bad_json', () => {
    it.each([
      ['plain text', 'hello'],
      ['an empty frame', ''],
      ['only white space', '   \n'],
      ['a truncated object', '{"type":"ping","id":"1"'],
      ['single quotes', "{'type':'ping','id':'1'}"],
      ['a trailing comma', '{"type":"ping","id":"1",}'],
      ['NaN', 'NaN'],
      ['undefined', 'undefined'],
      ['two objects in one frame', '{"type":"ping","id":"1"}{"type":"ping","id":"2"}'],
      ['a comment', '{"type":"ping","id":"1"} // hi'],
    ])('%s', (_name, text) => {
      const result = parseClientMessage(text);
      expect(result).toEqual({ ok: false, code: 'bad_json', message: 'message is not valid JSON' });
    });

    it('does not quote the frame in its message (it may hold a token)', () => {
      const result = parseClientMessage('{"type":"auth","token":"eyJsecret-part"');
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain('secret-part');
    });
  });

  describe('refuses JSON that is not a message object with invalid_message', () => {
    it.each([
      ['an array', '[]'],
      ['an array holding a message', '[{"type":"ping","id":"1"}]'],
      ['a number', '42'],
      ['null', 'null'],
      ['true', 'true'],
      ['a string', '"ping"'],
    ])('%s', (_name, text) => {
      const result = parseClientMessage(text);
      expect(result).toEqual({
        ok: false,
        code: 'invalid_message',
        message: 'a message must be a JSON object',
        details: [{ path: '/', message: 'must be object' }],
      });
    });
  });

  describe('answers an unknown string type with unknown_type', () => {
    it.each<[string, string, string | undefined]>([
      ['a server message type, echoing the id', j({ type: 'pong', id: 'a' }), 'a'],
      ['an invented type without id', j({ type: 'hello' }), undefined],
      ['an empty type', j({ type: '', id: 'q1' }), 'q1'],
      ['a type in the wrong case', j({ type: 'PING', id: '1' }), '1'],
      ['a type with white space', j({ type: ' ping', id: '1' }), '1'],
      ['an inherited property name (constructor)', j({ type: 'constructor', id: '1' }), '1'],
      ['an inherited property name (toString)', j({ type: 'toString' }), undefined],
      ['__proto__', j({ type: '__proto__', id: 'p' }), 'p'],
      ['an unknown type with an empty id (not echoed)', j({ type: 'hello', id: '' }), undefined],
      ['an unknown type with a numeric id (not echoed)', j({ type: 'hello', id: 5 }), undefined],
      ['an unknown type with a 65-character id (not echoed)', j({ type: 'hello', id: id65 }), undefined],
      ['an unknown type with a 64-character id (echoed)', j({ type: 'hello', id: id64 }), id64],
    ])('%s', (_name, text, id) => {
      const result = parseClientMessage(text);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.code).toBe('unknown_type');
      expect(result.id).toBe(id);
      expect('id' in result).toBe(id !== undefined);
      expect(result.message).toMatch(/^unknown message type /);
    });

    it('quotes at most 64 characters of the unknown type', () => {
      const result = parseClientMessage(j({ type: 'z'.repeat(10_000) }));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.message).toContain(`"${'z'.repeat(64)}…"`);
      expect(result.message.length).toBeLessThan(200);
    });
  });

  // [name, frame, expected detail path, a substring of that detail's message, echoed id]
  type InvalidCase = [string, string, string, string, string | undefined];
  const invalid: InvalidCase[] = [
    // the envelope
    ['an object without type', j({}), '/', "required property 'type'", undefined],
    ['an object without type, echoing its id', j({ id: '1' }), '/', "required property 'type'", '1'],
    ['a numeric type', j({ type: 5, id: '1' }), '/type', 'must be string', '1'],
    ['a null type', j({ type: null }), '/type', 'must be string', undefined],
    ['an array type', j({ type: ['ping'] }), '/type', 'must be string', undefined],
    // id
    ['ping without id', j({ type: 'ping' }), '/', "required property 'id'", undefined],
    ['an empty id', j({ type: 'ping', id: '' }), '/id', 'fewer than 1 characters', undefined],
    ['a 65-character id', j({ type: 'ping', id: id65 }), '/id', 'more than 64 characters', undefined],
    ['a numeric id', j({ type: 'ping', id: 1 }), '/id', 'must be string', undefined],
    ['a null id', j({ type: 'ping', id: null }), '/id', 'must be string', undefined],
    ['an object id', j({ type: 'cancel', id: { a: 1 }, runId: 'r1' }), '/id', 'must be string', undefined],
    // extra properties
    ['ping with an extra property', j({ type: 'ping', id: '1', extra: true }), '/', "additional property 'extra'", '1'],
    ['ping with a __proto__ member', '{"type":"ping","id":"1","__proto__":{"admin":true}}', '/', "additional property '__proto__'", '1'],
    ['unsubscribe with fromSeq', j({ type: 'unsubscribe', id: 'u', runId: 'r1', fromSeq: 0 }), '/', "additional property 'fromSeq'", 'u'],
    ['cancel with step', j({ type: 'cancel', id: 'c', runId: 'r1', step: true }), '/', "additional property 'step'", 'c'],
    // auth
    ['auth without token', j({ type: 'auth' }), '/', "required property 'token'", undefined],
    ['auth with an empty token', j({ type: 'auth', token: '' }), '/token', 'fewer than 1 characters', undefined],
    ['auth with a numeric token', j({ type: 'auth', token: 123 }), '/token', 'must be string', undefined],
    ['auth with an id (auth carries none)', j({ type: 'auth', token: 't', id: '1' }), '/', "additional property 'id'", '1'],
    // run
    ['run with both workflowId and workflow', j({ type: 'run', id: 'r', workflowId: 'hello', workflow }), '/', "must not have both 'workflowId' and 'workflow'", 'r'],
    ['run with neither workflowId nor workflow', j({ type: 'run', id: 'r' }), '/', "must have one of 'workflowId' or 'workflow'", 'r'],
    ['run without id', j({ type: 'run', workflowId: 'hello' }), '/', "required property 'id'", undefined],
    ['run with an empty workflowId', j({ type: 'run', id: 'r', workflowId: '' }), '/workflowId', 'must match pattern', 'r'],
    ['run with a workflowId holding a space', j({ type: 'run', id: 'r', workflowId: 'two words' }), '/workflowId', 'must match pattern', 'r'],
    ['run with a 65-character workflowId', j({ type: 'run', id: 'r', workflowId: id65 }), '/workflowId', 'must match pattern', 'r'],
    ['run with a numeric workflowId', j({ type: 'run', id: 'r', workflowId: 7 }), '/workflowId', 'must be string', 'r'],
    ['run with a string workflow', j({ type: 'run', id: 'r', workflow: 'hello' }), '/workflow', 'must be object', 'r'],
    ['run with an input that is not an object', j({ type: 'run', id: 'r', workflowId: 'w', input: 'GET /' }), '/input', 'must be object', 'r'],
    ['run with a numeric header value', j({ type: 'run', id: 'r', workflowId: 'w', input: { headers: { 'x-n': 1 } } }), '/input/headers/x-n', 'must be string', 'r'],
    ['run with an object path parameter', j({ type: 'run', id: 'r', workflowId: 'w', input: { params: { id: { a: 1 } } } }), '/input/params/id', 'must be string', 'r'],
    ['run with a query that is an array', j({ type: 'run', id: 'r', workflowId: 'w', input: { query: ['a'] } }), '/input/query', 'must be object', 'r'],
    ['run with an empty method', j({ type: 'run', id: 'r', workflowId: 'w', input: { method: '' } }), '/input/method', 'fewer than 1 characters', 'r'],
    ['run with an unknown input part', j({ type: 'run', id: 'r', workflowId: 'w', input: { cookies: {} } }), '/input', "additional property 'cookies'", 'r'],
    ['run with breakpoints that are not an array', j({ type: 'run', id: 'r', workflowId: 'w', breakpoints: 'start' }), '/breakpoints', 'must be array', 'r'],
    ['run with a numeric breakpoint', j({ type: 'run', id: 'r', workflowId: 'w', breakpoints: [1] }), '/breakpoints/0', 'must be string', 'r'],
    ['run with a breakpoint that is not a node id', j({ type: 'run', id: 'r', workflowId: 'w', breakpoints: ['ok', 'not ok'] }), '/breakpoints/1', 'must match pattern', 'r'],
    // subscribe
    ['subscribe with fromSeq -1', j({ type: 'subscribe', id: 's', runId: 'r1', fromSeq: -1 }), '/fromSeq', 'must be >= 0', 's'],
    ['subscribe with fromSeq 1.5', j({ type: 'subscribe', id: 's', runId: 'r1', fromSeq: 1.5 }), '/fromSeq', 'must be integer', 's'],
    ['subscribe with fromSeq "3"', j({ type: 'subscribe', id: 's', runId: 'r1', fromSeq: '3' }), '/fromSeq', 'must be integer', 's'],
    ['subscribe with fromSeq null', j({ type: 'subscribe', id: 's', runId: 'r1', fromSeq: null }), '/fromSeq', 'must be integer', 's'],
    ['subscribe with fromSeq 1e400 (Infinity)', '{"type":"subscribe","id":"s","runId":"r1","fromSeq":1e400}', '/fromSeq', 'must be integer', 's'],
    ['subscribe without runId', j({ type: 'subscribe', id: 's' }), '/', "required property 'runId'", 's'],
    ['subscribe with an empty runId', j({ type: 'subscribe', id: 's', runId: '' }), '/runId', 'fewer than 1 characters', 's'],
    ['subscribe with a numeric runId', j({ type: 'subscribe', id: 's', runId: 42 }), '/runId', 'must be string', 's'],
    ['subscribe with a 129-character runId', j({ type: 'subscribe', id: 's', runId: 'r'.repeat(129) }), '/runId', 'more than 128 characters', 's'],
    // unsubscribe, cancel, continue
    ['unsubscribe without runId', j({ type: 'unsubscribe', id: 'u' }), '/', "required property 'runId'", 'u'],
    ['cancel without runId', j({ type: 'cancel', id: 'c' }), '/', "required property 'runId'", 'c'],
    ['cancel without id', j({ type: 'cancel', runId: 'r1' }), '/', "required property 'id'", undefined],
    ['continue with step "yes"', j({ type: 'continue', id: 'k', runId: 'r1', step: 'yes' }), '/step', 'must be boolean', 'k'],
    ['continue with step 1', j({ type: 'continue', id: 'k', runId: 'r1', step: 1 }), '/step', 'must be boolean', 'k'],
    ['continue with step null', j({ type: 'continue', id: 'k', runId: 'r1', step: null }), '/step', 'must be boolean', 'k'],
    ['continue without runId', j({ type: 'continue', id: 'k' }), '/', "required property 'runId'", 'k'],
  ];

  describe('refuses a malformed message with invalid_message and a detail path', () => {
    it.each(invalid)('%s', (_name, text, path, fragment, id) => {
      const result = parseClientMessage(text);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.code).toBe('invalid_message');
      expect(result.id).toBe(id);
      expect(result.details).toEqual(expect.arrayContaining([{ path, message: expect.stringContaining(fragment) }]));
      for (const detail of result.details ?? []) {
        expect(detail.path).toMatch(/^\//);
        expect(detail.message).not.toBe('');
      }
    });
  });

  describe('error details', () => {
    it('lists every violation, not only the first', () => {
      const result = parseClientMessage(j({ type: 'subscribe', id: 's', runId: 5, fromSeq: -1, extra: 1 }));
      expect(result).toEqual({
        ok: false,
        code: 'invalid_message',
        message: 'invalid subscribe message',
        id: 's',
        details: [
          { path: '/', message: "must NOT have additional property 'extra'" },
          { path: '/runId', message: 'must be string' },
          { path: '/fromSeq', message: 'must be >= 0' },
        ],
      });
    });

    it('reports only the errors of the message type that was sent, without oneOf noise', () => {
      const result = parseClientMessage(j({ type: 'run', id: 'r', workflowId: 'w', breakpoints: 'x' }));
      expect(result).toEqual({
        ok: false,
        code: 'invalid_message',
        message: 'invalid run message',
        id: 'r',
        details: [{ path: '/breakpoints', message: 'must be array' }],
      });
    });

    it('reports a missing workflow reference once, in one readable detail', () => {
      const result = parseClientMessage(j({ type: 'run', id: 'r' }));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.details).toEqual([{ path: '/', message: "must have one of 'workflowId' or 'workflow'" }]);
    });

    it('does not repeat the same detail', () => {
      const error = (instancePath: string, message: string): ErrorObject => ({
        instancePath,
        schemaPath: '#/x',
        keyword: 'x',
        params: {},
        message,
      });
      expect(toProblemDetails([error('/a', 'is bad'), error('/a', 'is bad'), error('', 'is bad'), error('/a', 'is worse')])).toEqual([
        { path: '/a', message: 'is bad' },
        { path: '/', message: 'is bad' },
        { path: '/a', message: 'is worse' },
      ]);
    });
  });

  describe('accepts a valid message of every type', () => {
    const astral64 = '😀'.repeat(64); // 64 characters, 128 UTF-16 code units
    const valid: [string, ClientMessage][] = [
      ['auth', { type: 'auth', token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig' }],
      ['run with a workflowId', { type: 'run', id: 'r1', workflowId: 'create-user' }],
      [
        'run with every input part and breakpoints',
        {
          type: 'run',
          id: 'r2',
          workflowId: 'create_user-2',
          input: {
            method: 'POST',
            path: '/users/42',
            headers: { 'content-type': 'application/json' },
            query: { page: 2, tags: ['a', 'b'] },
            params: { id: '42' },
            body: { email: 'ada@example.com', nested: [null, 1, 'x'] },
          },
          breakpoints: ['insert', 'respond'],
        },
      ],
      ['run with an empty input and no breakpoints', { type: 'run', id: 'r3', workflowId: 'w', input: {}, breakpoints: [] }],
      ['run with a null body', { type: 'run', id: 'r4', workflowId: 'w', input: { body: null } }],
      ['run with an inline workflow', { type: 'run', id: 'r5', workflow }],
      ['run with an inline workflow in a workspace', { type: 'run', id: 'r6', workflow: { ...workflow, workspace: 'acme' } }],
      ['subscribe without fromSeq', { type: 'subscribe', id: 's1', runId: 'run_abc' }],
      ['subscribe from 0', { type: 'subscribe', id: 's2', runId: 'run_abc', fromSeq: 0 }],
      ['subscribe from a large seq', { type: 'subscribe', id: 's3', runId: 'run_abc', fromSeq: 9_007_199_254_740_991 }],
      ['unsubscribe', { type: 'unsubscribe', id: 'u1', runId: 'run_abc' }],
      ['cancel', { type: 'cancel', id: 'c1', runId: 'run_abc' }],
      ['continue', { type: 'continue', id: 'k1', runId: 'run_abc' }],
      ['continue with step', { type: 'continue', id: 'k2', runId: 'run_abc', step: true }],
      ['continue with step false', { type: 'continue', id: 'k3', runId: 'run_abc', step: false }],
      ['ping', { type: 'ping', id: 'p1' }],
      ['ping with a 1-character id', { type: 'ping', id: '1' }],
      ['ping with a 64-character id', { type: 'ping', id: id64 }],
      ['ping with 64 astral characters as id', { type: 'ping', id: astral64 }],
    ];

    it.each(valid)('%s', (_name, message) => {
      expect(parseClientMessage(JSON.stringify(message))).toEqual({ ok: true, message });
    });

    it('accepts white space around the JSON', () => {
      expect(parseClientMessage('  {"type":"ping","id":"1"}\n')).toEqual({ ok: true, message: { type: 'ping', id: '1' } });
    });

    it('accepts a deeply nested body without exhausting the stack', () => {
      const depth = 100_000;
      const text = `{"type":"run","id":"r","workflowId":"w","input":{"body":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
      expect(parseClientMessage(text).ok).toBe(true);
    });

    it('does not fill in defaults', () => {
      const result = parseClientMessage(j({ type: 'subscribe', id: 's', runId: 'r' }));
      expect(result.ok && result.message).toEqual({ type: 'subscribe', id: 's', runId: 'r' });
    });
  });
});
