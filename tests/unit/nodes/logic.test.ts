import { createSandbox, type SandboxPool } from '../../../src/sandbox';
import { NodeError, normaliseRequest } from '../../../src/executor/node-type';
import { createLogicNode } from '../../../src/nodes/logic';
import type { Sandbox } from '../../../src/sandbox/types';
import { configValidator, makeContext } from '../../helpers/node-context';

describe('logic', () => {
  let sandbox: SandboxPool;
  const limits = { codeTimeoutMs: 1_000, codeMemoryMb: 16 };
  const node = () => createLogicNode({ sandbox, ...limits });

  beforeAll(async () => {
    sandbox = createSandbox({ poolSize: 1 });
    await sandbox.warmUp();
  });

  afterAll(async () => {
    await sandbox.close();
  });

  describe('configSchema', () => {
    const valid = configValidator(createLogicNode({ sandbox: {} as Sandbox, ...limits }).configSchema);
    it.each<[string, unknown, boolean]>([
      ['code', { code: 'return input' }, true],
      ['no code', {}, false],
      ['empty code', { code: '' }, false],
      ['code as an array', { code: ['return 1'] }, false],
      ['an extra key', { code: 'return 1', timeoutMs: 5 }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  it('keeps its code out of template resolution', () => {
    expect(node().rawConfigKeys).toEqual(['code']);
  });

  describe('#check', () => {
    it('reports a syntax error at /code', async () => {
      const problems = await node().check!({ id: 'l', type: 'logic', config: { code: 'return {' } });
      expect(problems).toEqual([{ path: '/code', message: expect.any(String) }]);
    });

    it('accepts a valid function body', async () => {
      expect(await node().check!({ id: 'l', type: 'logic', config: { code: 'const x = input.a; return { x };' } })).toEqual([]);
    });
  });

  describe('#run', () => {
    it('outputs what the code returns', async () => {
      const ctx = makeContext({
        config: { code: 'return { email: input.body.email.trim().toLowerCase() }' },
        input: { body: { email: '  A@B.CO ' } },
      });
      expect(await node().run(ctx)).toEqual({ output: { email: 'a@b.co' } });
    });

    it.each<[string, unknown]>([
      ['return null', null],
      ['return 0', 0],
      ['return ""', ''],
      ['return [1, "a", false]', [1, 'a', false]],
    ])('outputs the JSON value of %s', async (code, expected) => {
      expect((await node().run(makeContext({ config: { code } }))).output).toEqual(expected);
    });

    it('sees input, request, nodes, secrets, item and index', async () => {
      const ctx = makeContext({
        config: { code: 'return [input, request.method, request.headers["x-a"], nodes.a.v, secrets.K, item, index]' },
        input: 1,
        scope: {
          request: normaliseRequest({ method: 'put', headers: { 'X-A': 'h' } }),
          nodes: { a: { v: 2 } },
          secrets: { K: 'secret-value' },
          item: 'it',
          index: 3,
        },
      });
      expect((await node().run(ctx)).output).toEqual([1, 'PUT', 'h', 2, 'secret-value', 'it', 3]);
    });

    it('forwards console output to ctx.log with its level', async () => {
      const ctx = makeContext({ config: { code: 'console.log("a", {b: 1}); console.error("oops"); return 1' } });
      await node().run(ctx);
      expect(ctx.logs).toEqual([
        { level: 'log', message: expect.stringContaining('a') },
        { level: 'error', message: 'oops' },
      ]);
    });

    it.each<[string]>([['return undefined'], ['const a = 1;'], ['return input.nothing']])(
      'fails with code_error when the code (%s) returns undefined',
      async (code) => {
        await expect(node().run(makeContext({ config: { code }, input: {} }))).rejects.toMatchObject({
          code: 'code_error',
          message: 'logic node returned undefined',
        });
      },
    );

    it('fails with code_error and the line when the code throws', async () => {
      const err = await node()
        .run(makeContext({ config: { code: 'const a = 1;\nthrow new Error("bad input");' } }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NodeError);
      expect(err).toMatchObject({ code: 'code_error', message: expect.stringContaining('bad input'), details: { line: 2 } });
    });

    it('fails with timeout on an endless loop', async () => {
      const quick = createLogicNode({ sandbox, codeTimeoutMs: 200, codeMemoryMb: 16 });
      await expect(quick.run(makeContext({ config: { code: 'while (true) {}' } }))).rejects.toMatchObject({ code: 'timeout' });
    });

    it('fails with memory_limit when the code allocates too much', async () => {
      const small = createLogicNode({ sandbox, codeTimeoutMs: 5_000, codeMemoryMb: 8 });
      const code = 'const a = []; for (;;) a.push("x".repeat(1024) + a.length); return a.length';
      await expect(small.run(makeContext({ config: { code } }))).rejects.toMatchObject({ code: 'memory_limit' });
    });

    it('rejects with the reason when the run signal aborts', async () => {
      const controller = new AbortController();
      const run = node().run(makeContext({ config: { code: 'while (true) {}' }, signal: controller.signal }));
      const reason = new Error('run cancelled');
      controller.abort(reason);
      await expect(run).rejects.toBe(reason);
    });
  });
});
