/**
 * `loop`: repeats its body (the nodes after the `each` edge) for every element of an
 * array. The executor runs the body itself; this node type validates the config and
 * checks the resolved `items` before the first iteration.
 */
import { NodeError, type NodeType } from '../executor/node-type';
import { EXACT_TEMPLATE_PATTERN } from './schema';

/** Iterations allowed when `maxIterations` is not set. */
export const DEFAULT_MAX_ITERATIONS = 1000;

/**
 * Create the `loop` node type. Config: `items`, a single template that must resolve to
 * an array (`{{ nodes.list }}`), and `maxIterations` (default 1000). Output: the
 * resolved items; the executor replaces it with `{items: [...]}` once the body ran.
 *
 * @throws NodeError `loop_error` when `items` is not an array or is longer than `maxIterations`.
 */
export function createLoopNode(): NodeType {
  return {
    type: 'loop',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['items'],
      additionalProperties: false,
      properties: {
        items: { type: 'string', pattern: EXACT_TEMPLATE_PATTERN },
        maxIterations: { type: 'integer', minimum: 1, default: DEFAULT_MAX_ITERATIONS },
      },
    },
    async run(ctx) {
      const items = ctx.config['items'];
      const max = (ctx.config['maxIterations'] as number | undefined) ?? DEFAULT_MAX_ITERATIONS;
      if (!Array.isArray(items)) {
        const got = items === null ? 'null' : typeof items;
        throw new NodeError('loop_error', `loop items must be an array, got ${got}`);
      }
      if (items.length > max)
        throw new NodeError('loop_error', `loop has ${items.length} items, more than maxIterations (${max})`);
      return { output: items };
    },
  };
}
