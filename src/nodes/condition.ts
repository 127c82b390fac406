/**
 * `condition`: evaluates a JavaScript expression in the sandbox and takes the `true` or
 * `false` edge by its truthiness. Its output is its input, unchanged.
 */
import type { NodeType } from '../executor/node-type';
import { evaluateForNode, syntaxCheck, type SandboxedCodeOptions } from './sandboxed-code';

/**
 * Create the `condition` node type. Config: `expression` (JavaScript, not
 * template-resolved: it reads `input`, `request`, `nodes`, `secrets`, `item`, `index`
 * directly). `check()` reports syntax errors before anything runs.
 *
 * @throws NodeError `code_error`, `timeout`, `memory_limit` from the sandbox.
 */
export function createConditionNode(opts: SandboxedCodeOptions): NodeType {
  return {
    type: 'condition',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['expression'],
      additionalProperties: false,
      properties: { expression: { type: 'string', minLength: 1, maxLength: 65_536 } },
    },
    // Code is never templated: a resolved value spliced into code is code injection.
    rawConfigKeys: ['expression'],
    check: syntaxCheck(opts.sandbox, 'expression', 'expression'),
    async run(ctx) {
      const value = await evaluateForNode(opts, 'expression', String(ctx.config['expression']), ctx);
      return { output: ctx.input, branch: value ? 'true' : 'false' };
    },
  };
}
