import { createLoopNode } from '../../../src/nodes/loop';
import { configValidator, makeContext } from '../../helpers/node-context';

describe('loop', () => {
  const node = createLoopNode();
  const valid = configValidator(node.configSchema);

  describe('configSchema', () => {
    it.each<[string, unknown, boolean]>([
      ['a template', { items: '{{ nodes.list }}' }, true],
      ['a deep template', { items: '{{ request.body.items }}' }, true],
      ['a max', { items: '{{ input }}', maxIterations: 10 }, true],
      ['no items', {}, false],
      ['items as an array', { items: [1, 2] }, false],
      ['items as plain text', { items: 'a,b' }, false],
      ['items with text around the template', { items: 'x {{ input }}' }, false],
      ['maxIterations 0', { items: '{{ input }}', maxIterations: 0 }, false],
      ['fractional maxIterations', { items: '{{ input }}', maxIterations: 1.5 }, false],
      ['an extra key', { items: '{{ input }}', body: 'x' }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  describe('#run', () => {
    it('outputs the resolved items', async () => {
      expect(await node.run(makeContext({ config: { items: [1, { a: 2 }] } }))).toEqual({ output: [1, { a: 2 }] });
    });

    it('accepts an empty array', async () => {
      expect(await node.run(makeContext({ config: { items: [] } }))).toEqual({ output: [] });
    });

    it('accepts exactly maxIterations items', async () => {
      expect(await node.run(makeContext({ config: { items: [1, 2, 3], maxIterations: 3 } }))).toEqual({ output: [1, 2, 3] });
    });

    it.each<[unknown, string]>([
      [{ a: 1 }, 'got object'],
      ['1,2', 'got string'],
      [null, 'got null'],
      [5, 'got number'],
    ])('fails with loop_error when items is %j', async (items, message) => {
      await expect(node.run(makeContext({ config: { items } }))).rejects.toMatchObject({
        code: 'loop_error',
        message: expect.stringContaining(message),
      });
    });

    it('fails with loop_error past maxIterations', async () => {
      await expect(node.run(makeContext({ config: { items: [1, 2, 3], maxIterations: 2 } }))).rejects.toMatchObject({
        code: 'loop_error',
        message: 'loop has 3 items, more than maxIterations (2)',
      });
    });

    it('allows 1000 items by default, not 1001', async () => {
      const items = Array.from({ length: 1000 }, (_, i) => i);
      await expect(node.run(makeContext({ config: { items } }))).resolves.toEqual({ output: items });
      await expect(node.run(makeContext({ config: { items: [...items, 1000] } }))).rejects.toMatchObject({ code: 'loop_error' });
    });
  });
});
