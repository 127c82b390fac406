import { RuncastError } from '../../../src/protocol/errors';
import { createSandbox, type SandboxPool } from '../../../src/sandbox';
import type { EvaluateResult } from '../../../src/sandbox/types';
import { request, sandboxContract } from './contract';

/** Code that spends its time inside one built-in call after another, where QuickJS hardly ever polls its interrupt handler. */
const STUCK_IN_BUILTINS = 'while (true) new Array(1e6).fill(1)';

describe('createSandbox', () => {
  let pool: SandboxPool;
  beforeAll(async () => {
    pool = createSandbox({ poolSize: 2 });
    await pool.warmUp();
  });
  afterAll(() => pool.close());

  sandboxContract(() => pool);

  describe('#warmUp', () => {
    it('starts every worker of the pool', () => {
      expect(pool.stats()).toMatchObject({ workers: 2, busy: 0, queued: 0 });
    });
  });

  describe('#evaluate', () => {
    it('answers a short evaluation while another one loops until its timeout', async () => {
      const order: string[] = [];
      const finished = (name: string) => (result: EvaluateResult) => {
        order.push(name);
        return result;
      };
      const loop = pool.evaluate(request('while (true) {}', { timeoutMs: 1_000 })).then(finished('loop'));
      const short = pool.evaluate(request('return input.x')).then(finished('short'));
      const [looped, answered] = await Promise.all([loop, short]);
      expect(order).toEqual(['short', 'loop']);
      expect(looped).toEqual({ ok: false, error: { code: 'timeout', message: 'the code ran longer than 1000 ms' }, logs: [] });
      expect(answered).toEqual({ ok: true, value: 2, logs: [] });
    });

    it('gives each of 50 parallel evaluations its own result and logs', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, n) => pool.evaluate(request('console.log("n", input.n);\nreturn input.n * 2;', { globals: { input: { n } } }))),
      );
      expect(results).toEqual(Array.from({ length: 50 }, (_, n) => ({ ok: true, value: n * 2, logs: [{ level: 'log', message: `n ${n}` }] })));
    });

    it('keeps its workers through memory bombs and timeouts stopped inside QuickJS', async () => {
      await pool.evaluate(request('let a = []; while (true) a.push(new Array(1e6).fill(1))', { memoryMb: 16, timeoutMs: 20_000 }));
      await pool.evaluate(request('while (true) {}', { timeoutMs: 50 }));
      expect(pool.stats()).toMatchObject({ workers: 2, terminated: 0, crashed: 0 });
    });

    it('rejects with the reason of an already aborted signal, running nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(pool.evaluate(request('return 1', { signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError' });
      expect(pool.stats()).toMatchObject({ busy: 0, queued: 0 });
    });

    it('rejects a malformed request before queueing it', async () => {
      await expect(pool.evaluate(request('return 1', { timeoutMs: Number.NaN }))).rejects.toThrow(RangeError);
      await expect(pool.evaluate(request('return 1', { memoryMb: 0 }))).rejects.toThrow(RangeError);
      expect(pool.stats()).toMatchObject({ busy: 0, queued: 0 });
    });
  });

  describe('with one worker', () => {
    let single: SandboxPool;
    beforeEach(async () => {
      single = createSandbox({ poolSize: 1, maxQueue: 1, graceMs: 300 });
      await single.warmUp();
    });
    afterEach(() => single.close());

    it('terminates and replaces a worker that overruns timeoutMs + graceMs', async () => {
      const result = await single.evaluate(request(STUCK_IN_BUILTINS, { timeoutMs: 100 }));
      expect(result).toEqual({ ok: false, error: { code: 'timeout', message: 'the code ran longer than 100 ms' }, logs: [] });
      expect(single.stats()).toMatchObject({ terminated: 1, started: 2 });
      await expect(single.evaluate(request('return input.x'))).resolves.toEqual({ ok: true, value: 2, logs: [] });
    });

    it('answers an aborted request stuck inside built-ins at once and serves the next one', async () => {
      // Whether the abort flag or the watchdog (graceMs later) stops the worker depends on
      // where QuickJS last polled its interrupt handler; either way the pool goes on.
      const controller = new AbortController();
      const stuck = single.evaluate(request(STUCK_IN_BUILTINS, { timeoutMs: 60_000, signal: controller.signal }));
      controller.abort();
      await expect(stuck).rejects.toMatchObject({ name: 'AbortError' });
      await expect(single.evaluate(request('return input.x'))).resolves.toEqual({ ok: true, value: 2, logs: [] });
    });

    it('takes an aborted request out of the queue', async () => {
      const running = new AbortController();
      const queued = new AbortController();
      const first = single.evaluate(request('while (true) {}', { timeoutMs: 60_000, signal: running.signal }));
      const second = single.evaluate(request('return 1', { signal: queued.signal }));
      expect(single.stats()).toMatchObject({ busy: 1, queued: 1 });
      queued.abort();
      await expect(second).rejects.toMatchObject({ name: 'AbortError' });
      expect(single.stats()).toMatchObject({ busy: 1, queued: 0 });
      running.abort();
      await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    });

    it('refuses a request when maxQueue requests already wait', async () => {
      const controller = new AbortController();
      const first = single.evaluate(request('while (true) {}', { timeoutMs: 60_000, signal: controller.signal }));
      const second = single.evaluate(request('return 1', { signal: controller.signal }));
      const third = single.evaluate(request('return 1'));
      await expect(third).rejects.toBeInstanceOf(RuncastError);
      await expect(third).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('busy') });
      controller.abort();
      await Promise.allSettled([first, second]);
    });
  });

  describe('an aborted evaluation', () => {
    it('is answered at once and stopped in its worker, which is kept', async () => {
      // A grace period far beyond the test: the worker must stop through the abort flag.
      const patient = createSandbox({ poolSize: 1, graceMs: 60_000 });
      try {
        await patient.warmUp();
        const controller = new AbortController();
        const running = patient.evaluate(request('while (true) {}', { timeoutMs: 60_000, signal: controller.signal }));
        controller.abort();
        await expect(running).rejects.toMatchObject({ name: 'AbortError' });
        // Only microtasks ran since the abort: the worker cannot have answered yet.
        expect(patient.stats().busy).toBe(1);
        await expect(patient.evaluate(request('return input.x'))).resolves.toEqual({ ok: true, value: 2, logs: [] });
        expect(patient.stats()).toMatchObject({ terminated: 0, started: 1 });
      } finally {
        await patient.close();
      }
    });
  });

  describe('an engine failure in a worker', () => {
    it('fails the request with code_error and serves the next one with a fresh engine', async () => {
      // A worker stack far too small for the QuickJS stack limit: the host stack
      // overflows inside WebAssembly before QuickJS notices, and the engine is replaced.
      const fragile = createSandbox({ poolSize: 1, resourceLimits: { stackSizeMb: 1 }, maxStackBytes: 4 * 1024 * 1024 });
      try {
        const failed = await fragile.evaluate(request('function f(n) { return n + f(n + 1) }\nreturn f(0)'));
        expect(failed).toEqual({ ok: false, error: { code: 'code_error', message: expect.stringContaining('the sandbox engine failed') }, logs: [] });
        await expect(fragile.evaluate(request('return input.x'))).resolves.toEqual({ ok: true, value: 2, logs: [] });
        expect(fragile.stats()).toMatchObject({ started: 1, crashed: 0, terminated: 0 });
      } finally {
        await fragile.close();
      }
    });
  });

  describe('#close', () => {
    it('rejects running and queued requests and every later call', async () => {
      const closing = createSandbox({ poolSize: 1 });
      await closing.warmUp();
      const running = expect(closing.evaluate(request('while (true) {}', { timeoutMs: 60_000 }))).rejects.toMatchObject({ code: 'unavailable' });
      const queued = expect(closing.evaluate(request('return 1'))).rejects.toMatchObject({ code: 'unavailable' });
      await closing.close();
      await running;
      await queued;
      await expect(closing.evaluate(request('return 1'))).rejects.toMatchObject({ code: 'unavailable' });
      await expect(closing.check('function', 'return 1')).rejects.toMatchObject({ code: 'unavailable' });
      await expect(closing.warmUp()).rejects.toMatchObject({ code: 'unavailable' });
      await expect(closing.close()).resolves.toBeUndefined();
      expect(closing.stats()).toMatchObject({ workers: 0, queued: 0 });
    });
  });
});
