import { createDelayNode, wait } from '../../../src/nodes/delay';
import { configValidator, makeContext } from '../../helpers/node-context';

describe('delay', () => {
  const node = createDelayNode({ maxDelayMs: 30_000 });
  const valid = configValidator(node.configSchema);

  afterEach(() => {
    jest.useRealTimers();
  });

  describe('configSchema', () => {
    it.each<[string, unknown, boolean]>([
      ['0 ms', { ms: 0 }, true],
      ['some ms', { ms: 250 }, true],
      ['the maximum', { ms: 30_000 }, true],
      ['above the maximum', { ms: 30_001 }, false],
      ['negative', { ms: -1 }, false],
      ['fractional', { ms: 1.5 }, false],
      ['a string', { ms: '100' }, false],
      ['no ms', {}, false],
      ['an extra key', { ms: 1, seconds: 1 }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  describe('#run', () => {
    it('outputs its input once the time has passed', async () => {
      jest.useFakeTimers();
      let done = false;
      const run = node.run(makeContext({ config: { ms: 1_000 }, input: { a: 1 } })).then((r) => ((done = true), r));
      await jest.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await expect(run).resolves.toEqual({ output: { a: 1 } });
    });

    it('outputs its input after 0 ms', async () => {
      await expect(node.run(makeContext({ config: { ms: 0 }, input: 'x' }))).resolves.toEqual({ output: 'x' });
    });

    it('rejects promptly with the reason when the signal aborts, and clears its timer', async () => {
      jest.useFakeTimers();
      const controller = new AbortController();
      const run = node.run(makeContext({ config: { ms: 20_000 }, signal: controller.signal }));
      expect(jest.getTimerCount()).toBe(1);
      const reason = new Error('cancelled by user');
      controller.abort(reason);
      await expect(run).rejects.toBe(reason);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('rejects at once when the signal is already aborted', async () => {
      jest.useFakeTimers();
      const signal = AbortSignal.abort();
      await expect(node.run(makeContext({ config: { ms: 20_000 }, signal }))).rejects.toMatchObject({ name: 'AbortError' });
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  describe('wait', () => {
    it('removes its abort listener once the time has passed', async () => {
      jest.useFakeTimers();
      const controller = new AbortController();
      const removed = jest.spyOn(controller.signal, 'removeEventListener');
      const done = wait(10, controller.signal);
      await jest.advanceTimersByTimeAsync(10);
      await done;
      expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
    });

    it('turns a non-Error abort reason into an Error', async () => {
      const controller = new AbortController();
      const done = wait(60_000, controller.signal);
      controller.abort('just a string');
      await expect(done).rejects.toThrow('the node was aborted');
    });
  });
});
