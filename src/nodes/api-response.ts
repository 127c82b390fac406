/**
 * `api.response`: the answer to the request. Reaching it completes the run; its output
 * `{status, headers, body}` becomes the run's `response`.
 */
import { NodeError, type NodeType } from '../executor/node-type';
import { EXACT_TEMPLATE_PATTERN } from './schema';

/** The response an `api.response` node produces. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Create the `api.response` node type. Config: `status` (100-599, default 200; may be a
 * single template such as `{{ nodes.call.status }}`), `headers` (string values, default
 * none), `body` (any JSON, default `null`).
 *
 * @throws NodeError `node_error` when a templated status does not resolve to a valid status.
 */
export function createApiResponseNode(): NodeType {
  return {
    type: 'api.response',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: {
        status: {
          anyOf: [
            { type: 'integer', minimum: 100, maximum: 599 },
            { type: 'string', pattern: EXACT_TEMPLATE_PATTERN },
          ],
        },
        headers: {
          type: 'object',
          propertyNames: { pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$' },
          additionalProperties: { type: 'string' },
        },
        body: {},
      },
    },
    async run(ctx) {
      const status = ctx.config['status'] === undefined ? 200 : ctx.config['status'];
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
        throw new NodeError('node_error', `api.response status must be an integer from 100 to 599, got ${JSON.stringify(status)}`);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries((ctx.config['headers'] as Record<string, unknown> | undefined) ?? {})) {
        headers[k] = typeof v === 'string' ? v : JSON.stringify(v);
      }
      const body = ctx.config['body'] === undefined ? null : ctx.config['body'];
      const output: ApiResponse = { status, headers, body };
      return { output };
    },
  };
}
