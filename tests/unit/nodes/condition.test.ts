import { createSandbox, type SandboxPool } from '../../../src/sandbox';
import { NodeError, normaliseRequest } from '../../../src/executor/node-type';
import { createConditionNode } from '../../../src/nodes/condition';
import type { EvaluateRequest, Sandbox } from '../../../src/sandbox/types';
import { configValidator, makeContext } from '../../helpers/node-context';

describe('condition', () => {
  let sandbox: SandboxPool;
  const limits = { codeTimeoutMs: 1_000, codeMemoryMb: 16 };
  const node = () => createConditionNode({ sandbox, ...limits });

  beforeAll(async () => {
    sandbox = createSandbox({ poolSize: 1 });
    await sandbox.warmUp();
  });

  afterAll(async () => {
    await sandbox.close();
  });

  describe('configSchema', () => {
    const valid = configValidator(createConditionNode({ sandbox: {} as Sandbox, ...limits }).configSchema);
    it.each<[string, unknown, boolean]>([
      ['an expression', { expression: 'input.qty > 2' }, true],
      ['no expression', {}, false],
      ['an empty expression', { expression: '' }, false],
      ['a non-string expression', { expression: true }, false],
      ['an extra key', { expression: 'true', code: 'x' }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  it('keeps its expression out of template resolution', () => {
    expect(node().rawConfigKeys).toEqual(['expression']);
  });

  describe('#check', () => {
    it('reports a syntax error at /expression', async () => {
      const problems = await node().check!({ id: 'c', type: 'condition', config: { expression: 'input.qty >' } });
      expect(problems).toEqual([{ path: '/expression', message: expect.any(String) }]);
    });

    it('accepts a valid expression', async () => {
      expect(await node().check!({ id: 'c', type: 'condition', config: { expression: 'input.qty > 2 && request.method === "POST"' } })).toEqual([]);
    });
  });

  describe('#run', () => {
    it.each<[string, unknown, 'true' | 'false']>([
      ['input.qty > 2', { qty: 3 }, 'true'],
      ['input.qty > 2', { qty: 2 }, 'false'],
      ['input.name', { name: 'x' }, 'true'],
      ['input.name', { name: '' }, 'false'],
      ['input.missing', {}, 'false'],
      ['input.list', { list: [] }, 'true'],
      ['0', null, 'false'],
      ['null', null, 'false'],
      ['({})', null, 'true'],
    ])('%s with input %j takes the %s edge, input unchanged', async (expression, input, branch) => {
      const result = await node().run(makeContext({ config: { expression }, input }));
      expect(result).toEqual({ output: input, branch });
    });

    it('sees request, nodes, secrets, item and index', async () => {
      const expression =
        'request.method === "POST" && request.params.id === "7" && nodes.prev.ok === true && secrets.K === "sekret-value" && item.n === 4 && index === 1';
      const ctx = makeContext({
        config: { expression },
        input: 'in',
        scope: {
          request: normaliseRequest({ method: 'post', params: { id: '7' } }),
          nodes: { prev: { ok: true } },
          secrets: { K: 'sekret-value' },
          item: { n: 4 },
          index: 1,
        },
      });
      expect(await node().run(ctx)).toEqual({ output: 'in', branch: 'true' });
    });

    it('sees item and index as undefined outside a loop', async () => {
      const result = await node().run(makeContext({ config: { expression: 'typeof item === "undefined" && typeof index === "undefined"' } }));
      expect(result.branch).toBe('true');
    });

    it('forwards console output to ctx.log', async () => {
      const ctx = makeContext({ config: { expression: '(console.warn("checking", 1), true)' } });
      await node().run(ctx);
      expect(ctx.logs).toEqual([{ level: 'warn', message: 'checking 1' }]);
    });

    it('fails with code_error when the expression throws, and keeps the logs', async () => {
      const ctx = makeContext({ config: { expression: '(console.log("before"), input.a.b)' }, input: {} });
      const err = await node().run(ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NodeError);
      expect(err).toMatchObject({ code: 'code_error', message: expect.stringContaining('TypeError') });
      expect(ctx.logs).toEqual([{ level: 'log', message: 'before' }]);
    });

    it('fails with timeout when the expression runs too long', async () => {
      const quick = createConditionNode({ sandbox, codeTimeoutMs: 200, codeMemoryMb: 16 });
      await expect(quick.run(makeContext({ config: { expression: '(() => { for (;;) {} })()' } }))).rejects.toMatchObject({ code: 'timeout' });
    });

    it('hands the sandbox its limits and the signal', async () => {
      const seen: EvaluateRequest[] = [];
      const spy: Sandbox = {
        evaluate: async (req) => (seen.push(req), sandbox.evaluate(req)),
        check: (kind, code) => sandbox.check(kind, code),
        close: async () => undefined,
      };
      const signal = new AbortController().signal;
      await createConditionNode({ sandbox: spy, codeTimeoutMs: 1234, codeMemoryMb: 12 }).run(
        makeContext({ config: { expression: 'true' }, signal }),
      );
      expect(seen).toEqual([expect.objectContaining({ kind: 'expression', code: 'true', timeoutMs: 1234, memoryMb: 12, signal })]);
    });
  });
});
