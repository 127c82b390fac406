import { createQuickJSEvaluator, type QuickJSEvaluator } from '../../../src/sandbox';
import { request, sandboxContract } from './contract';

describe('createQuickJSEvaluator', () => {
  // The jest thread has a small host stack: keep QuickJS's well inside it (see quickjs.ts).
  const evaluator: QuickJSEvaluator = createQuickJSEvaluator({ maxStackBytes: 128 * 1024 });

  // A QuickJS object left undisposed makes freeing the runtime fail an engine
  // assertion, which discards the engine: none may be discarded, whatever the code did.
  afterEach(() => {
    expect(evaluator.stats().enginesDiscarded).toBe(0);
  });

  sandboxContract(() => evaluator);

  describe('#evaluate', () => {
    it('reuses one engine per memory limit', async () => {
      const before = evaluator.stats().enginesCreated;
      await evaluator.evaluate(request('return 1', { memoryMb: 24 }));
      await evaluator.evaluate(request('return 2', { memoryMb: 24 }));
      expect(evaluator.stats().enginesCreated).toBe(before + 1);
    });

    it('rejects with the reason of an already aborted signal', async () => {
      const controller = new AbortController();
      controller.abort(new Error('gone'));
      await expect(evaluator.evaluate(request('return 1', { signal: controller.signal }))).rejects.toThrow('gone');
    });

    it.each([
      ['a zero timeout', { timeoutMs: 0 }],
      ['a negative memory limit', { memoryMb: -1 }],
      ['a memory limit beyond 32-bit WebAssembly', { memoryMb: 4096 }],
    ])('rejects %s with a RangeError', async (_name, limits) => {
      await expect(evaluator.evaluate(request('return 1', limits))).rejects.toThrow(RangeError);
    });
  });

  describe('#evaluateJson', () => {
    it('stops the evaluation an abort probe names', async () => {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      Atomics.store(flag, 0, 7);
      const result = await evaluator.evaluateJson({ kind: 'function', code: 'while (true) {}', globalsJson: '{}', timeoutMs: 60_000, memoryMb: 32 }, { flag, token: 7 });
      expect(result).toEqual({ ok: false, error: { code: 'timeout', message: 'the evaluation was aborted' }, logs: [] });
    });

    it('leaves the value as JSON text', async () => {
      const result = await evaluator.evaluateJson({ kind: 'expression', code: '({ a: [input] })', globalsJson: '{"input":1}', timeoutMs: 1_000, memoryMb: 32 });
      expect(result).toEqual({ ok: true, json: '{"a":[1]}', logs: [] });
    });
  });

  describe('an engine failure', () => {
    it('fails the evaluation with code_error and builds a new engine for the next one', async () => {
      // A QuickJS stack limit far beyond what the host stack can carry: the host
      // stack overflows inside WebAssembly before QuickJS notices.
      const fragile = createQuickJSEvaluator({ maxStackBytes: 4 * 1024 * 1024 });
      const failed = await fragile.evaluate(request('function f(n) { return n + f(n + 1) }\nreturn f(0)'));
      expect(failed).toEqual({ ok: false, error: { code: 'code_error', message: expect.stringContaining('the sandbox engine failed') }, logs: [] });
      expect(fragile.stats()).toEqual({ enginesCreated: 1, enginesDiscarded: 1 });
      await expect(fragile.evaluate(request('return input.x'))).resolves.toEqual({ ok: true, value: 2, logs: [] });
      expect(fragile.stats()).toEqual({ enginesCreated: 2, enginesDiscarded: 1 });
    });
  });

  it('refuses a QuickJS stack limit beyond the engine stack', () => {
    expect(() => createQuickJSEvaluator({ maxStackBytes: 8 * 1024 * 1024 })).toThrow(RangeError);
  });
});
