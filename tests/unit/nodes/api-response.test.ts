import { NodeError } from '../../../src/executor/node-type';
import { createApiResponseNode } from '../../../src/nodes/api-response';
import { configValidator, makeContext } from '../../helpers/node-context';

describe('api.response', () => {
  const node = createApiResponseNode();
  const valid = configValidator(node.configSchema);

  describe('configSchema', () => {
    it.each<[string, unknown, boolean]>([
      ['nothing (all defaults)', {}, true],
      ['status, headers and body', { status: 201, headers: { 'x-id': '1' }, body: { id: 1 } }, true],
      ['a templated status', { status: '{{ nodes.call.status }}' }, true],
      ['any JSON body', { body: [1, 'two', null] }, true],
      ['a null body', { body: null }, true],
      ['a status below 100', { status: 99 }, false],
      ['a status above 599', { status: 600 }, false],
      ['a fractional status', { status: 200.5 }, false],
      ['a status as plain text', { status: '200' }, false],
      ['a non-string header value', { headers: { 'x-n': 1 } }, false],
      ['an invalid header name', { headers: { 'bad header': 'x' } }, false],
      ['an extra key', { statusCode: 200 }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  describe('#run', () => {
    it('outputs status, headers and body', async () => {
      const config = { status: 201, headers: { 'x-id': 'u1' }, body: { id: 'u1' } };
      expect(await node.run(makeContext({ config }))).toEqual({ output: config });
    });

    it('defaults to status 200, no headers and a null body', async () => {
      expect(await node.run(makeContext({ config: {} }))).toEqual({ output: { status: 200, headers: {}, body: null } });
    });

    it('writes resolved non-string header values as text', async () => {
      const out = await node.run(makeContext({ config: { headers: { 'x-count': 3 } } }));
      expect(out.output).toEqual({ status: 200, headers: { 'x-count': '3' }, body: null });
    });

    it.each<[unknown]>([['200'], [99], [700], [null], [201.5]])('fails with node_error for a resolved status %j', async (status) => {
      const run = node.run(makeContext({ config: { status } }));
      await expect(run).rejects.toBeInstanceOf(NodeError);
      await expect(run).rejects.toMatchObject({ code: 'node_error' });
    });
  });
});
