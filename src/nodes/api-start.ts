/**
 * `api.start`: where a request enters a workflow. Its output is the request itself
 * (`request` in templates); routing on `method` and `path` is done before the run.
 */
import type { NodeType } from '../executor/node-type';
import type { ProblemDetail } from '../protocol/errors';

/** HTTP methods an `api.start` node (and an `http.request` node) may name. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

const SEGMENT = String.raw`(?:[A-Za-z0-9._~-]+|:[A-Za-z_][A-Za-z0-9_]*)`;

/** `/`, `/users`, `/users/:id/orders` — literal segments or `:param` segments. */
export const API_PATH_PATTERN = `^/(?:${SEGMENT}(?:/${SEGMENT})*)?$`;

/**
 * Create the `api.start` node type. Config: `method` (upper case) and `path` (starts
 * with `/`, may hold `:param` segments, each name used once). Output: `ctx.scope.request`.
 */
export function createApiStartNode(): NodeType {
  return {
    type: 'api.start',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['method', 'path'],
      additionalProperties: false,
      properties: {
        method: { type: 'string', enum: [...HTTP_METHODS] },
        path: { type: 'string', maxLength: 1024, pattern: API_PATH_PATTERN },
      },
    },
    check(node) {
      const path = node.config?.['path'];
      if (typeof path !== 'string') return [];
      const problems: ProblemDetail[] = [];
      const seen = new Set<string>();
      for (const seg of path.split('/')) {
        if (!seg.startsWith(':')) continue;
        if (seen.has(seg)) problems.push({ path: '/path', message: `path parameter "${seg.slice(1)}" is used twice` });
        seen.add(seg);
      }
      return problems;
    },
    async run(ctx) {
      return { output: ctx.scope.request };
    },
  };
}
