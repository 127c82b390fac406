/**
 * `http.request`: calls an HTTP(S) endpoint with the global `fetch`. Any status is a
 * result (a 404 is data, not a failure); only network errors and time-outs fail.
 */
import { NodeError, type NodeType } from '../executor/node-type';
import { abortReason } from './abort';
import { HTTP_METHODS } from './api-start';

/** What an `http.request` node outputs. */
export interface HttpResponseOutput {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the content type is JSON (`null` when empty), else text. */
  body: unknown;
}

function isJsonContentType(type: string | null): boolean {
  if (!type) return false;
  const mime = type.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime.endsWith('+json');
}

/** The network error's code (`ECONNREFUSED`) or message, without the URL (it may carry a secret). */
function networkReason(err: unknown, url: URL): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  let reason = 'network error';
  if (cause && typeof cause.code === 'string') reason = cause.code;
  else if (cause && typeof cause.message === 'string') reason = cause.message;
  else if (err instanceof Error) reason = err.message;
  return reason.split(url.href).join('<url>');
}


/**
 * Create the `http.request` node type. Config: `method` (default GET), `url` (http or
 * https, templated), `headers` (string values), `body` (a string is sent as is; any
 * other JSON value is sent as JSON with `content-type: application/json` unless a
 * content type is given), `timeoutMs` (default: the node's time limit). Output:
 * `{status, headers, body}`.
 *
 * @throws NodeError `timeout` when `timeoutMs` passes; `http_error` for a bad URL or a
 *   network failure (the message names the host, never the full URL). When the run's
 *   signal aborts, rejects with its reason.
 */
export function createHttpRequestNode(): NodeType {
  return {
    type: 'http.request',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        method: { type: 'string', enum: [...HTTP_METHODS], default: 'GET' },
        // A literal http(s) URL, or one built from templates (checked again once resolved).
        url: { type: 'string', pattern: String.raw`^(?:[hH][tT][tT][pP][sS]?://|.*\{\{)` },
        headers: {
          type: 'object',
          propertyNames: { pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$' },
          additionalProperties: { type: 'string' },
        },
        body: {},
        timeoutMs: { type: 'integer', minimum: 1 },
      },
    },
    check(node) {
      const method = (node.config?.['method'] as string | undefined) ?? 'GET';
      if ((method === 'GET' || method === 'HEAD') && node.config?.['body'] !== undefined)
        return [{ path: '/body', message: `a ${method} request cannot have a body` }];
      return [];
    },
    async run(ctx) {
      const method = (ctx.config['method'] as string | undefined) ?? 'GET';
      const timeoutMs = (ctx.config['timeoutMs'] as number | undefined) ?? ctx.timeoutMs;
      let url: URL;
      try {
        url = new URL(String(ctx.config['url']));
      } catch {
        throw new NodeError('http_error', 'http.request url is not a valid URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new NodeError('http_error', `http.request url must be http or https, not ${url.protocol.replace(/:$/, '')}`);
      if (url.username || url.password)
        throw new NodeError('http_error', 'http.request url cannot hold credentials: send them in a header');

      const headers = new Headers();
      for (const [k, v] of Object.entries((ctx.config['headers'] as Record<string, unknown> | undefined) ?? {})) {
        try {
          headers.set(k, typeof v === 'string' ? v : JSON.stringify(v));
        } catch {
          throw new NodeError('http_error', `http.request header "${k}" has an invalid name or value`);
        }
      }
      const rawBody = ctx.config['body'];
      let body: string | undefined;
      if (typeof rawBody === 'string') body = rawBody;
      else if (rawBody !== undefined) {
        body = JSON.stringify(rawBody);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
      if (body !== undefined && (method === 'GET' || method === 'HEAD'))
        throw new NodeError('http_error', `a ${method} request cannot have a body`);

      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      try {
        const res = await fetch(url, { method, headers, body, signal, redirect: 'follow' });
        const text = await res.text();
        const type = res.headers.get('content-type');
        let parsed: unknown = text;
        if (isJsonContentType(type)) {
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            parsed = text; // says JSON but is not: hand over the text rather than fail
          }
        }
        const resHeaders: Record<string, string> = {};
        res.headers.forEach((value, name) => (resHeaders[name] = value));
        const output: HttpResponseOutput = { status: res.status, headers: resHeaders, body: parsed };
        return { output };
      } catch (err) {
        if (ctx.signal.aborted) throw abortReason(ctx.signal);
        if (timeout.aborted)
          throw new NodeError('timeout', `${method} request to ${url.host} timed out after ${timeoutMs} ms`);
        throw new NodeError('http_error', `${method} request to ${url.host} failed: ${networkReason(err, url)}`);
      }
    },
  };
}
