/**
 * The HTTP routes of PROTOCOL.md section 8: standard execution, run status and
 * history, truncated values, deployed workflows as live APIs, schemas, the console,
 * health and metrics. Errors are JSON `{error: {code, message}}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpStatusOf, type ErrorCode } from '../protocol/codes';
import { RuncastError, toRuncastError } from '../protocol/errors';
import type { Scope } from '../protocol/messages';
import type { Bus } from '../channels/types';
import type { RunService } from '../runs/run-service';
import type { WorkflowCatalog } from '../runs/workflow-catalog';
import type { Redactor } from '../redaction/types';
import type { Metrics } from '../metrics/metrics';

export interface HttpPrincipal {
  user: string;
  workspace: string;
  scopes: readonly string[];
}

export interface HttpRouterOptions {
  runs: RunService;
  bus: Bus;
  catalog: WorkflowCatalog;
  verify(token: string): Promise<HttpPrincipal>;
  redactor(): Redactor;
  metrics: Metrics;
  schemas: Record<string, unknown>;
  consoleHtml(): string;
  /** MAX_HTTP_BODY_BYTES. */
  maxBodyBytes: number;
  /** True while the instance can take new runs (bus healthy, not draining). */
  ready(): Promise<boolean>;
  onError(message: string, err: unknown): void;
}

class HttpError extends RuncastError {}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, code: ErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  send(res, HttpStatusOf[code], { error: { code, message, ...extra } });
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError('invalid_message', `request body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError('invalid_message', `request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

export function createHttpRouter(opts: HttpRouterOptions) {
  const { runs, bus, catalog } = opts;

  const authenticate = async (req: IncomingMessage, ...anyOf: Scope[]): Promise<HttpPrincipal> => {
    const token = bearer(req);
    if (!token) throw new HttpError('unauthorized', 'missing Authorization: Bearer token');
    let p: HttpPrincipal;
    try {
      p = await opts.verify(token);
    } catch (err) {
      opts.metrics.authFailures.inc({ reason: 'http' });
      throw new HttpError('unauthorized', toRuncastError(err).message);
    }
    if (anyOf.length && !anyOf.some((s) => p.scopes.includes(s)))
      throw new HttpError('forbidden', `this token lacks the scope ${anyOf.join(' or ')}`);
    return p;
  };

  const visible = async (req: IncomingMessage, runId: string) => {
    const p = await authenticate(req, 'runs:watch', 'runs:execute');
    const meta = await runs.visibleRun(runId, p.workspace);
    if (!meta) throw new HttpError('not_found', `no run "${runId}"`);
    return meta;
  };

  const standardRun = async (req: IncomingMessage, res: ServerResponse) => {
    const p = await authenticate(req, 'runs:execute');
    if (!(await opts.ready())) throw new HttpError('unavailable', 'this instance takes no new runs right now');
    const text = await readBody(req, opts.maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new HttpError('bad_json', `request body is not JSON: ${(err as Error).message}`);
    }
    const problems: { path: string; message: string }[] = [];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) problems.push({ path: '/', message: 'must be an object' });
    else {
      const b = body as Record<string, unknown>;
      for (const k of Object.keys(b)) if (!['workflowId', 'workflow', 'input'].includes(k)) problems.push({ path: `/${k}`, message: 'unknown property' });
      if (('workflowId' in b) === ('workflow' in b)) problems.push({ path: '/', message: 'exactly one of workflowId or workflow is required' });
      if ('workflowId' in b && typeof b.workflowId !== 'string') problems.push({ path: '/workflowId', message: 'must be a string' });
      if ('input' in b && (typeof b.input !== 'object' || b.input === null || Array.isArray(b.input))) problems.push({ path: '/input', message: 'must be an object' });
    }
    if (problems.length) throw new HttpError('invalid_message', 'invalid request body', { details: problems });
    const b = body as { workflowId?: string; workflow?: unknown; input?: Record<string, unknown> };
    opts.metrics.runsStarted.inc({ mode: 'standard' });
    const { runId, outcome } = await runs.execute({ ...b, caller: { user: p.user, workspace: p.workspace } });
    if (outcome.status === 'succeeded') return send(res, 200, { runId, status: outcome.status, response: outcome.response });
    const error =
      outcome.status === 'failed'
        ? { code: outcome.error.code, message: opts.redactor().redactText(outcome.error.message), nodeId: outcome.error.nodeId }
        : { code: 'cancelled', message: `cancelled by ${outcome.by}`, nodeId: null };
    send(res, 200, { runId, status: outcome.status, error });
  };

  const liveApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const apiPath = url.pathname.slice('/api'.length) || '/';
    const route = catalog.route(req.method ?? 'GET', apiPath);
    if (!route) return sendError(res, 'not_found', `no deployed workflow answers ${req.method} ${apiPath}`);
    if (!(await opts.ready())) throw new HttpError('unavailable', 'this instance takes no new runs right now');
    const text = await readBody(req, opts.maxBodyBytes);
    let body: unknown = text === '' ? null : text;
    if (text !== '' && /json/i.test(req.headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new HttpError('bad_json', `request body is not JSON: ${(err as Error).message}`);
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const { deployed, params } = route;
    opts.metrics.runsStarted.inc({ mode: 'api' });
    const { runId, outcome } = await runs.execute({
      deployedWorkflow: deployed.workflow,
      input: { method: req.method ?? 'GET', path: apiPath, headers, query: Object.fromEntries(url.searchParams), params, body },
      caller: { user: 'api', workspace: deployed.workspace },
    });
    if (outcome.status === 'succeeded') {
      const r = outcome.response;
      const isText = typeof r.body === 'string';
      const hdrs: Record<string, string> = { 'x-runcast-run-id': runId, ...(r.headers ?? {}) };
      if (!Object.keys(hdrs).some((h) => h.toLowerCase() === 'content-type'))
        hdrs['content-type'] = isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
      res.writeHead(r.status ?? 200, hdrs);
      res.end(isText ? (r.body as string) : r.body === undefined ? '' : JSON.stringify(r.body));
      return;
    }
    const error =
      outcome.status === 'failed'
        ? { code: outcome.error.code, message: opts.redactor().redactText(outcome.error.message), runId }
        : { code: 'cancelled', message: `cancelled by ${outcome.by}`, runId };
    send(res, 500, { error });
  };

  const routes: [string, RegExp, (req: IncomingMessage, res: ServerResponse, m: RegExpExecArray, url: URL) => Promise<void>][] = [
    ['POST', /^\/v1\/runs\/?$/, (req, res) => standardRun(req, res)],
    ['GET', /^\/v1\/runs\/([^/]+)$/, async (req, res, m) => {
      const meta = await visible(req, decodeURIComponent(m[1]!));
      const tail = await bus.history(meta.runId, meta.lastSeq);
      const lastSeq = tail.length ? tail[tail.length - 1]!.seq : meta.lastSeq;
      send(res, 200, { runId: meta.runId, workflowId: meta.workflowId, status: meta.status, startedAt: meta.startedAt, endedAt: meta.endedAt, lastSeq });
    }],
    ['GET', /^\/v1\/runs\/([^/]+)\/events$/, async (req, res, m, url) => {
      const meta = await visible(req, decodeURIComponent(m[1]!));
      const raw = url.searchParams.get('fromSeq') ?? '0';
      if (!/^\d+$/.test(raw)) throw new HttpError('invalid_message', 'fromSeq must be an integer >= 0', { details: [{ path: '/fromSeq', message: 'must be an integer >= 0' }] });
      const frames = await bus.history(meta.runId, Number(raw));
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
      res.end(frames.map((f) => f.text + '\n').join(''));
    }],
    ['GET', /^\/v1\/runs\/([^/]+)\/values\/([^/]+)$/, async (req, res, m) => {
      const meta = await visible(req, decodeURIComponent(m[1]!));
      const json = await bus.getValue(meta.runId, decodeURIComponent(m[2]!));
      if (json === undefined) throw new HttpError('not_found', `no value "${m[2]}" in run "${meta.runId}"`);
      send(res, 200, json);
    }],
    ['GET', /^\/schemas\/([A-Za-z0-9_-]+)\.json$/, async (_req, res, m) => {
      const s = opts.schemas[m[1]!];
      if (!s) throw new HttpError('not_found', `no schema "${m[1]}"`);
      send(res, 200, s, { 'access-control-allow-origin': '*' });
    }],
    ['GET', /^\/console\/?$/, async (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:",
        'referrer-policy': 'no-referrer',
      });
      res.end(opts.consoleHtml());
    }],
    ['GET', /^\/healthz$/, async (_req, res) => send(res, 200, { status: 'ok' })],
    ['GET', /^\/readyz$/, async (_req, res) => {
      const ok = await opts.ready();
      send(res, ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable' });
    }],
    ['GET', /^\/metrics$/, async (_req, res) => {
      res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
      res.end(await opts.metrics.registry.metrics());
    }],
  ];

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.searchParams.has('token') || url.searchParams.has('access_token'))
        return sendError(res, 'invalid_message', 'tokens in the query string are refused: send Authorization: Bearer');
      if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return await liveApi(req, res, url);
      let pathMatched = false;
      for (const [method, re, fn] of routes) {
        const m = re.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (method !== req.method && !(method === 'GET' && req.method === 'HEAD')) continue;
        return await fn(req, res, m, url);
      }
      if (pathMatched) return send(res, 405, { error: { code: 'invalid_message', message: `method ${req.method} not allowed here` } });
      sendError(res, 'not_found', `no route ${req.method} ${url.pathname}`);
    } catch (err) {
      const e = toRuncastError(err);
      const code = (HttpStatusOf as Record<string, number>)[e.code] ? (e.code as ErrorCode) : 'internal';
      if (code === 'internal') opts.onError(`HTTP ${req.method} ${req.url}`, err);
      const message = code === 'internal' ? 'internal error' : opts.redactor().redactText(e.message);
      send(res, HttpStatusOf[code], { error: { code, message, ...(e.details !== undefined ? { details: e.details } : {}) } });
    }
  };
}
