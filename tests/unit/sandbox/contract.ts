/**
 * The contract every sandbox implementation keeps (the worker pool and the in-thread
 * QuickJS evaluator): isolation, results, errors with lines, console capture, check().
 * Run from quickjs.test.ts and pool.test.ts against the real thing.
 */
import type { EvaluateRequest, EvaluateResult, Sandbox } from '../../../src/sandbox/types';

export type Evaluating = Pick<Sandbox, 'evaluate' | 'check'>;

const LIMITS = { timeoutMs: 2_000, memoryMb: 32 };

export function request(code: string, extra: Partial<EvaluateRequest> = {}): EvaluateRequest {
  return { kind: 'function', code, globals: { input: { x: 2 } }, ...LIMITS, ...extra };
}

function expectOk(result: EvaluateResult): unknown {
  if (!result.ok) throw new Error(`expected a value, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function expectError(result: EvaluateResult): Extract<EvaluateResult, { ok: false }>['error'] {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return result.error;
}

export function sandboxContract(sandbox: () => Evaluating): void {
  const evaluate = (code: string, extra?: Partial<EvaluateRequest>): Promise<EvaluateResult> => sandbox().evaluate(request(code, extra));

  describe('isolation', () => {
    it.each([
      ['the constructor chain of this', 'return this.constructor.constructor("return process")()', /process.*not defined/],
      ['the Function constructor', 'return Function("return process")()', /process.*not defined/],
      ['the constructor of a console method', 'return console.log.constructor("return require")()', /require.*not defined/],
      ['the AsyncFunction constructor', 'return (async function () {}).constructor("return process")()', /process.*not defined/],
      ['the GeneratorFunction constructor', 'return (function* () {}).constructor("return process")().next()', /process.*not defined/],
      ['eval', 'return eval("process.env")', /process.*not defined/],
      ['a dynamic import', 'return import("fs")', /could not load module/],
      ['a dynamic import of a node: module', 'return import("node:child_process")', /could not load module/],
      ['require', 'return require("fs")', /require.*not defined/],
    ])('refuses an escape through %s', async (_name, code, message) => {
      const error = expectError(await evaluate(code));
      expect(error.code).toBe('code_error');
      expect(error.message).toMatch(message);
    });

    it('exposes none of the host globals', async () => {
      const names = ['process', 'require', 'module', 'exports', 'global', 'fetch', 'setTimeout', 'setInterval', 'setImmediate',
        'queueMicrotask', 'Buffer', 'WebAssembly', 'XMLHttpRequest', '__dirname', '__filename', 'std', 'os', 'print'];
      const value = expectOk(await evaluate(`return ${JSON.stringify(names)}.map((n) => [n, typeof globalThis[n], n in globalThis])`));
      expect(value).toEqual(names.map((n) => [n, 'undefined', false]));
    });

    it('gives a sloppy function nothing but the sandbox global as this', async () => {
      expect(expectOk(await evaluate('return [(function () { return this })().process, (function () { return this })() === globalThis]'))).toEqual([null, true]);
    });

    it('hands in plain sandbox objects whose prototype chain ends at the sandbox Object.prototype', async () => {
      const code = `
        const chain = [];
        for (let o = input; o !== null; o = Object.getPrototypeOf(o)) chain.push(o === Object.prototype ? 'Object.prototype' : 'own');
        const F = Object.getPrototypeOf(function () {}).constructor;
        return [chain, Object.getPrototypeOf(Object.getPrototypeOf(console.log)) === Object.prototype, F('return typeof process')()];`;
      expect(expectOk(await evaluate(code))).toEqual([['own', 'Object.prototype'], true, 'undefined']);
    });

    it('leaves no host paths in stack traces', async () => {
      const value = expectOk(await evaluate('try { null.x } catch (e) { return e.stack }'));
      expect(value).toEqual(expect.stringContaining('user-code.js'));
      expect(value).not.toMatch(/node:|\/work\/|node_modules|\.ts\b/);
    });

    it('keeps prototype pollution inside one evaluation', async () => {
      const polluted = await evaluate('input.__proto__.polluted = 1; Object.prototype.polluted2 = 2; Array.prototype.push = null; return ({}).polluted');
      expect(expectOk(polluted)).toBe(1);
      expect((({}) as Record<string, unknown>)['polluted']).toBeUndefined();
      expect((({}) as Record<string, unknown>)['polluted2']).toBeUndefined();
      const next = await evaluate('const a = []; a.push(1); return [({}).polluted, ({}).polluted2, a.length]');
      expect(expectOk(next)).toEqual([null, null, 1]);
    });

    it('copies the globals in: changes do not reach the host objects', async () => {
      const globals = { input: { x: 1, list: [1] } };
      const result = await sandbox().evaluate(request('input.x = 99; input.list.push(2); return input', { globals }));
      expect(expectOk(result)).toEqual({ x: 99, list: [1, 2] });
      expect(globals).toEqual({ input: { x: 1, list: [1] } });
    });

    it('drops __proto__ keys from the result so it cannot carry a prototype', async () => {
      const value = expectOk(await evaluate('return JSON.parse(\'{"__proto__": {"polluted": true}, "ok": 1, "nested": {"__proto__": {"polluted": true}}}\')'));
      expect(value).toEqual({ ok: 1, nested: {} });
      expect(Object.assign({}, value)).not.toHaveProperty('polluted');
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    });
  });

  describe('results', () => {
    it('returns the value of a function body', async () => {
      expect(expectOk(await evaluate('const y = input.x * 21; return { y, list: [1, "a", null, true] }'))).toEqual({ y: 42, list: [1, 'a', null, true] });
    });

    it('evaluates an expression', async () => {
      expect(expectOk(await evaluate('input.x > 1 && request.method === "POST"', { kind: 'expression', globals: { input: { x: 2 }, request: { method: 'POST' } } }))).toBe(true);
    });

    it.each([
      ['no return', 'const a = 1'],
      ['return undefined', 'return undefined'],
      ['a function', 'return () => 1'],
    ])('yields the value undefined for %s', async (_name, code) => {
      const result = await evaluate(code);
      expect(result).toEqual({ ok: true, value: undefined, logs: [] });
    });

    it('defines the standard globals, undefined when not given', async () => {
      const code = 'return [typeof input, typeof request, typeof nodes, typeof secrets, typeof item, typeof index]';
      expect(expectOk(await evaluate(code, { globals: { input: 1 } }))).toEqual(['number', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
      expect(expectOk(await evaluate('return [item.a, index, nodes.n1.v]', { globals: { item: { a: 'x' }, index: 3, nodes: { n1: { v: true } } } }))).toEqual(['x', 3, true]);
    });

    it('settles a returned promise', async () => {
      expect(expectOk(await evaluate('return Promise.resolve(20).then((v) => v + 1).then(async (v) => v * 2)'))).toBe(42);
    });

    it('fails a returned promise that never settles', async () => {
      const error = expectError(await evaluate('return new Promise(() => {})'));
      expect(error).toMatchObject({ code: 'code_error', message: expect.stringContaining('never settles') });
    });

    it('fails a result that is not JSON', async () => {
      expect(expectError(await evaluate('return 1n'))).toMatchObject({ code: 'code_error', message: expect.stringContaining('not JSON-serialisable') });
    });

    it('refuses globals that are not JSON', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      await expect(sandbox().evaluate(request('return 1', { globals: { input: cyclic } }))).rejects.toThrow(TypeError);
      await expect(sandbox().evaluate(request('return 1', { globals: { 'not-a-name': 1 } }))).rejects.toThrow(TypeError);
    });
  });

  describe('errors', () => {
    it('reports a runtime error with the line of the user code', async () => {
      const error = expectError(await evaluate('const a = 1;\nconst b = input.x;\nreturn a.b.c;\n'));
      expect(error).toEqual({ code: 'code_error', message: expect.stringMatching(/^TypeError: .*property 'c'/), line: 3 });
    });

    it('reports the line where a nested function threw', async () => {
      const error = expectError(await evaluate('function f() {\n  throw new Error("boom");\n}\nreturn f();'));
      expect(error).toEqual({ code: 'code_error', message: 'Error: boom', line: 2 });
    });

    it('reports a syntax error with its line', async () => {
      const error = expectError(await evaluate('const a = 1;\nconst b = ;\nreturn a;'));
      expect(error).toMatchObject({ code: 'code_error', message: expect.stringMatching(/^SyntaxError/), line: 2 });
    });

    it('reports an error in an expression', async () => {
      expect(expectError(await evaluate('nodes.missing.value', { kind: 'expression', globals: { nodes: {} } }))).toMatchObject({ code: 'code_error', line: 1 });
    });

    it.each([
      ['a string', 'throw "boom"', 'Uncaught boom'],
      ['an object', 'throw { reason: 1 }', 'Uncaught {"reason":1}'],
      ['an error whose message getter throws', 'const e = new Error("x"); Object.defineProperty(e, "message", { get() { throw 1 } }); throw e', 'Uncaught exception (unprintable)'],
    ])('describes what was thrown: %s', async (_name, code, message) => {
      expect(expectError(await evaluate(code)).message).toBe(message);
    });

    it('reports unbounded recursion as a code error', async () => {
      expect(expectError(await evaluate('function f() { return f() }\nreturn f()'))).toMatchObject({ code: 'code_error', message: expect.stringContaining('stack overflow') });
    });

    it('stops an infinite loop with timeout', async () => {
      expect(expectError(await evaluate('while (true) {}', { timeoutMs: 100 }))).toEqual({ code: 'timeout', message: 'the code ran longer than 100 ms' });
    });

    it('stops a memory bomb with memory_limit', async () => {
      const error = expectError(await evaluate('let a = []; while (true) a.push(new Array(1e6).fill(1))', { memoryMb: 16, timeoutMs: 20_000 }));
      expect(error).toEqual({ code: 'memory_limit', message: 'the code used more than 16 MB of memory' });
      expect(expectOk(await evaluate('return 1 + 1', { memoryMb: 16 }))).toBe(2);
    });

    it('stops a single allocation above the limit with memory_limit', async () => {
      expect(expectError(await evaluate('return "x".repeat(64 * 1024 * 1024).length', { memoryMb: 16 })).code).toBe('memory_limit');
    });
  });

  describe('console', () => {
    it('returns console output in order, objects as JSON', async () => {
      const result = await evaluate('console.log("a", 1, { b: [2] });\nconsole.info(null, undefined, true);\nconsole.warn(new TypeError("t"));\nconsole.error([1, "x"]);\nconsole.debug(() => 1, 5n);\nreturn 0;');
      expect(result.logs).toEqual([
        { level: 'log', message: 'a 1 {"b":[2]}' },
        { level: 'info', message: 'null undefined true' },
        { level: 'warn', message: 'TypeError: t' },
        { level: 'error', message: '[1,"x"]' },
        { level: 'debug', message: '[Function (anonymous)] 5n' },
      ]);
    });

    it('keeps the output of code that fails', async () => {
      const result = await evaluate('console.log("before");\nthrow new Error("after")');
      expect(result).toMatchObject({ ok: false, logs: [{ level: 'log', message: 'before' }] });
    });

    it('cuts the output at 1000 lines and 8 KiB per line', async () => {
      const result = await evaluate('for (let i = 0; i < 1200; i++) console.log(i);\nreturn 0;');
      expect(result.logs).toHaveLength(1001);
      expect(result.logs[999]).toEqual({ level: 'log', message: '999' });
      expect(result.logs[1000]).toEqual({ level: 'warn', message: '[runcast] console output cut after 1000 lines' });
      const long = await evaluate('console.log("x".repeat(100000));\nreturn 0;');
      expect(long.logs[0]!.message).toBe(`${'x'.repeat(8192)}…`);
    });
  });

  describe('check', () => {
    it('accepts code that compiles, without running it', async () => {
      await expect(sandbox().check('function', 'while (true) {}\nreturn process.exit()')).resolves.toBeNull();
      await expect(sandbox().check('expression', 'input.x > 1')).resolves.toBeNull();
    });

    it.each([
      ['function', 'const a = 1;\nconst b = ;', /^SyntaxError: .* \(line 2\)$/],
      ['function', 'if (x) {\n  return 1;\n', /^SyntaxError: .* \(line 3\)$/],
      ['expression', 'input.x >', /^SyntaxError: .* \(line 1\)$/],
      ['expression', 'a; b', /^SyntaxError: .* \(line 1\)$/],
    ] as const)('reports a syntax error in a %s with its line: %j', async (kind, code, message) => {
      await expect(sandbox().check(kind, code)).resolves.toMatch(message);
    });
  });
}
