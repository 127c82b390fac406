/**
 * `logic`: runs a JavaScript function body in the sandbox; what it returns is the
 * node's output.
 */
import { NodeError, type NodeType } from '../executor/node-type';
import { evaluateForNode, syntaxCheck, type SandboxedCodeOptions } from './sandboxed-code';

/**
 * Create the `logic` node type. Config: `code`, a function body (not template-resolved:
 * it reads `input`, `request`, `nodes`, `secrets`, `item`, `index` directly; `console.*`
 * becomes node logs). `check()` reports syntax errors before anything runs.
 *
 * @throws NodeError `code_error` (also when the code returns `undefined`), `timeout`,
 *   `memory_limit`.
 */
export function createLogicNode(opts: SandboxedCodeOptions): NodeType {
  return {
    type: 'logic',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['code'],
      additionalProperties: false,
      properties: { code: { type: 'string', minLength: 1, maxLength: 262_144 } },
    },
    // Code is never templated: a resolved value spliced into code is code injection.
    rawConfigKeys: ['code'],
    check: syntaxCheck(opts.sandbox, 'function', 'code'),
    async run(ctx) {
      const value = await evaluateForNode(opts, 'function', String(ctx.config['code']), ctx);
      if (value === undefined) throw new NodeError('code_error', 'logic node returned undefined');
      return { output: value };
    },
  };
}
