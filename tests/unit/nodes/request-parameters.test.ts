import { NodeError, normaliseRequest, type RunRequest } from '../../../src/executor/node-type';
import { createRequestParametersNode, type ParameterViolation } from '../../../src/nodes/request-parameters';
import { configValidator, makeContext } from '../../helpers/node-context';

const userSchema = {
  type: 'object',
  required: ['email'],
  additionalProperties: false,
  properties: {
    email: { type: 'string', format: 'email' },
    age: { type: 'integer', minimum: 0 },
    role: { type: 'string', default: 'member' },
  },
};

function request(parts: Parameters<typeof normaliseRequest>[0]): RunRequest {
  return normaliseRequest({ method: 'POST', path: '/users', ...parts });
}

async function violations(config: Record<string, unknown>, req: RunRequest): Promise<ParameterViolation[]> {
  const node = createRequestParametersNode();
  try {
    await node.run(makeContext({ config, scope: { request: req } }));
  } catch (err) {
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).code).toBe('validation_failed');
    return (err as NodeError).details as ParameterViolation[];
  }
  throw new Error('expected validation_failed');
}

describe('request.parameters', () => {
  const node = createRequestParametersNode();
  const valid = configValidator(node.configSchema);

  describe('configSchema', () => {
    it.each<[string, unknown, boolean]>([
      ['nothing', {}, true],
      ['a body schema', { body: userSchema }, true],
      ['every part', { body: {}, query: { type: 'object' }, headers: { type: 'object' }, params: { type: 'object' } }, true],
      ['a boolean schema', { body: true }, true],
      ['a schema as a string', { body: 'object' }, false],
      ['a schema as an array', { query: [] }, false],
      ['an unknown part', { cookies: {} }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  it('does not template-resolve its schemas', () => {
    expect(node.rawConfigKeys).toEqual(['body', 'query', 'headers', 'params']);
  });

  describe('#check', () => {
    it('reports an invalid JSON Schema up front, per part', async () => {
      const problems = await node.check!({
        id: 'p',
        type: 'request.parameters',
        config: { body: { type: 'object', properties: { a: { type: 'strnig' } } }, query: { minimum: 'x' } },
      });
      expect(problems).toEqual([
        { path: '/body', message: expect.stringContaining('invalid JSON Schema') },
        { path: '/query', message: expect.stringContaining('invalid JSON Schema') },
      ]);
    });

    it('accepts valid schemas, formats included', async () => {
      expect(await node.check!({ id: 'p', type: 'request.parameters', config: { body: userSchema } })).toEqual([]);
    });
  });

  describe('#run', () => {
    it('outputs the validated parts, with defaults filled in', async () => {
      const req = request({ body: { email: 'a@b.co', age: 3 }, query: { q: 'x' }, headers: { 'X-A': '1' }, params: { id: '9' } });
      const result = await node.run(makeContext({ config: { body: userSchema }, scope: { request: req } }));
      expect(result.output).toEqual({
        body: { email: 'a@b.co', age: 3, role: 'member' },
        query: { q: 'x' },
        headers: { 'x-a': '1' },
        params: { id: '9' },
      });
      // The request itself is left as it came.
      expect(req.body).toEqual({ email: 'a@b.co', age: 3 });
    });

    it('coerces query, params and headers to the schema types', async () => {
      const intProp = (name: string) => ({ type: 'object', properties: { [name]: { type: 'integer' } } });
      const req = request({ query: { limit: '10' }, params: { id: '7' }, headers: { 'x-n': '3' } });
      const result = await node.run(
        makeContext({ config: { query: intProp('limit'), params: intProp('id'), headers: intProp('x-n') }, scope: { request: req } }),
      );
      expect(result.output).toMatchObject({ query: { limit: 10 }, params: { id: 7 }, headers: { 'x-n': 3 } });
    });

    it('does not coerce the body', async () => {
      const details = await violations({ body: { type: 'object', properties: { n: { type: 'integer' } } } }, request({ body: { n: '5' } }));
      expect(details).toEqual([{ part: 'body', path: '/n', message: 'must be integer' }]);
    });

    it('lists every violation, in every part', async () => {
      const req = request({ body: { email: 'not-an-email', age: -1, extra: true }, query: {} });
      const details = await violations(
        { body: userSchema, query: { type: 'object', required: ['page'] }, params: { type: 'object', required: ['id'] } },
        req,
      );
      expect(details).toEqual(
        expect.arrayContaining([
          { part: 'body', path: '/extra', message: 'must NOT have additional properties' },
          { part: 'body', path: '/email', message: 'must match format "email"' },
          { part: 'body', path: '/age', message: 'must be >= 0' },
          { part: 'query', path: '/page', message: "must have required property 'page'" },
          { part: 'params', path: '/id', message: "must have required property 'id'" },
        ]),
      );
      expect(details).toHaveLength(5);
    });

    it.each<[string, unknown, ParameterViolation[]]>([
      ['a missing body', null, [{ part: 'body', path: '', message: 'must be object' }]],
      ['a missing required field', {}, [{ part: 'body', path: '/email', message: "must have required property 'email'" }]],
      ['a wrong type', { email: 5 }, [{ part: 'body', path: '/email', message: 'must be string' }]],
    ])('fails with validation_failed for %s', async (_name, body, expected) => {
      expect(await violations({ body: userSchema }, request({ body }))).toEqual(expected);
    });

    it('names the violations in the message', async () => {
      const run = node.run(makeContext({ config: { body: userSchema }, scope: { request: request({ body: {} }) } }));
      await expect(run).rejects.toThrow("invalid request: body/email must have required property 'email'");
    });

    it('reuses one compiled validator for equal schemas', async () => {
      const fresh = createRequestParametersNode();
      const { default: Ajv } = await import('ajv');
      const compile = jest.spyOn(Ajv.prototype, 'compile');
      try {
        const req = request({ body: { email: 'a@b.co' } });
        for (let i = 0; i < 3; i++) {
          // A new but equal schema object each time, as when a definition is parsed again.
          await fresh.run(makeContext({ config: { body: structuredClone(userSchema) }, scope: { request: req } }));
        }
        expect(compile).toHaveBeenCalledTimes(1);
      } finally {
        compile.mockRestore();
      }
    });

    it('keeps two schemas with the same $id apart', async () => {
      const a = { $id: 'https://example.com/s', type: 'object', required: ['a'] };
      const b = { $id: 'https://example.com/s', type: 'object', required: ['b'] };
      const req = request({ body: { b: 1 } });
      await expect(node.run(makeContext({ config: { body: b }, scope: { request: req } }))).resolves.toBeDefined();
      expect(await violations({ body: a }, req)).toEqual([{ part: 'body', path: '/a', message: "must have required property 'a'" }]);
    });
  });
});
