import { normaliseRequest } from '../../../src/executor/node-type';
import { createApiStartNode } from '../../../src/nodes/api-start';
import { configValidator, makeContext } from '../../helpers/node-context';

describe('api.start', () => {
  const node = createApiStartNode();
  const valid = configValidator(node.configSchema);

  it('has type "api.start"', () => {
    expect(node.type).toBe('api.start');
  });

  describe('configSchema', () => {
    it.each<[string, unknown, boolean]>([
      ['method and path', { method: 'POST', path: '/users' }, true],
      ['the root path', { method: 'GET', path: '/' }, true],
      ['a :param segment', { method: 'GET', path: '/users/:id' }, true],
      ['several params', { method: 'DELETE', path: '/users/:userId/orders/:order_id' }, true],
      ['dots and dashes', { method: 'PUT', path: '/v1/my-items.json' }, true],
      ['no method', { path: '/users' }, false],
      ['no path', { method: 'GET' }, false],
      ['a lower-case method', { method: 'get', path: '/' }, false],
      ['an unknown method', { method: 'FETCH', path: '/' }, false],
      ['a path without leading slash', { method: 'GET', path: 'users' }, false],
      ['a trailing slash', { method: 'GET', path: '/users/' }, false],
      ['an empty segment', { method: 'GET', path: '/a//b' }, false],
      ['an empty param name', { method: 'GET', path: '/users/:' }, false],
      ['a query string', { method: 'GET', path: '/users?x=1' }, false],
      ['an extra key', { method: 'GET', path: '/', extra: 1 }, false],
      ['a non-object', 'GET /', false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  describe('#check', () => {
    it('reports a path parameter used twice', async () => {
      const problems = await node.check!({ id: 's', type: 'api.start', config: { method: 'GET', path: '/a/:id/b/:id' } });
      expect(problems).toEqual([{ path: '/path', message: 'path parameter "id" is used twice' }]);
    });

    it('accepts distinct parameters', async () => {
      expect(await node.check!({ id: 's', type: 'api.start', config: { method: 'GET', path: '/a/:id/b/:other' } })).toEqual([]);
    });
  });

  describe('#run', () => {
    it('outputs the request', async () => {
      const request = normaliseRequest({ method: 'POST', path: '/users/7', params: { id: '7' }, body: { a: 1 } });
      const result = await node.run(makeContext({ config: { method: 'POST', path: '/users/:id' }, scope: { request } }));
      expect(result).toEqual({ output: request });
    });
  });
});
