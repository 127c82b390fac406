/**
 * The orchestrator's tools: fork servers under test and load generators, deploy the
 * bench workflows, and a small runcast control connection (starts runs at a
 * breakpoint, continues them). The orchestrator itself generates no load.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { signToken } from '../src/auth';
import type { WorkflowDefinition } from '../src/protocol/workflow';
import { forkWorker, type WorkerProcess } from './ipc';
import type { CollectResult, OpenArgs, OpenResult } from './client-worker';
import type { ServerKind } from './server-worker';
import { BENCH_WORKSPACE } from './workflows';

export const ALL_SCOPES = ['runs:execute', 'runs:watch', 'runs:cancel'];

/** Options every scenario gets. */
export interface BenchContext {
  quick: boolean;
  /** Load-generating processes. */
  clients: WorkerProcess[];
  secret: string;
  root: string;
  resultsDir: string;
  date: string;
  profile: boolean;
  log(message: string): void;
}

export interface ServerUnderTest {
  kind: ServerKind;
  /** ws://…/v1/ws (runcast), ws://… (ws), http://… (Socket.IO). */
  url: string;
  /** runcast: http://host:port */
  httpUrl: string;
  proc: WorkerProcess;
  stop(): Promise<void>;
}

const file = (name: string) => path.join(__dirname, name);

export function makeContext(opts: { quick: boolean; profile: boolean; clients: WorkerProcess[]; resultsDir: string; date: string }): BenchContext {
  const root = mkdtempSync(path.join(tmpdir(), 'runcast-bench-'));
  return {
    ...opts,
    secret: randomBytes(24).toString('base64url'),
    root,
    log: (m) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`),
  };
}

export async function forkClients(n: number): Promise<WorkerProcess[]> {
  return Promise.all(Array.from({ length: n }, () => forkWorker(file('client-worker.js'), { timeoutMs: 300_000 })));
}

/** A runcast environment: the bench secret, a fresh data dir and the given workflows deployed. */
export function runcastEnv(ctx: BenchContext, workflows: WorkflowDefinition[], extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(path.join(ctx.root, 'server-'));
  const workflowsDir = path.join(dir, 'workflows');
  mkdirSync(workflowsDir);
  for (const wf of workflows) writeFileSync(path.join(workflowsDir, `${wf.id}.json`), JSON.stringify(wf));
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: ctx.secret,
    WORKFLOWS_DIR: workflowsDir,
    DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: '2000',
    ...extra,
  };
}

/** Start a server under test in its own process. `gc`: expose gc() for memory readings. */
export async function startServerProcess(kind: ServerKind, env: Record<string, string> = {}, opts: { gc?: boolean } = {}): Promise<ServerUnderTest> {
  const proc = await forkWorker(file('server-worker.js'), {
    execArgv: opts.gc ? ['--expose-gc'] : [],
    timeoutMs: 300_000,
  });
  const { url } = await proc.call<{ url: string }>('start', { kind, env });
  return {
    kind,
    url: kind === 'runcast' ? url.replace(/^http/, 'ws') + '/v1/ws' : url,
    httpUrl: url,
    proc,
    stop: () => proc.stop(),
  };
}

/** Split `total` as evenly as possible over `n` parts. */
export function split(total: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

/** Open `total` connections of `kind`, spread over the load generators. */
export async function openEverywhere(
  ctx: BenchContext,
  total: number,
  base: Omit<OpenArgs, 'count'>,
): Promise<{ acceptMs: number; opened: number; failed: number; firstError?: string; used: WorkerProcess[] }> {
  const counts = split(total, ctx.clients.length);
  const used = ctx.clients.filter((_, i) => counts[i]! > 0);
  const results = await Promise.all(
    used.map((c, i) =>
      c.call<OpenResult>('open', {
        ...base,
        count: counts[i],
        ...(base.auth ? { auth: { ...base.auth, subPrefix: `${base.auth.subPrefix}c${i}-` } } : {}),
      }),
    ),
  );
  const started = Math.min(...results.map((r) => r.startedAt));
  const ended = Math.max(...results.map((r) => r.endedAt));
  const firstError = results.find((r) => r.firstError)?.firstError;
  return {
    acceptMs: ended - started,
    opened: results.reduce((s, r) => s + r.opened, 0),
    failed: results.reduce((s, r) => s + r.failed, 0),
    ...(firstError ? { firstError } : {}),
    used,
  };
}

export async function closeEverywhere(ctx: BenchContext): Promise<void> {
  await Promise.all(ctx.clients.map((c) => c.call('closeAll')));
}

export async function quietEverywhere(workers: WorkerProcess[], ms = 300, timeoutMs = 60_000): Promise<void> {
  await Promise.all(workers.map((c) => c.call('quiet', { ms, timeoutMs }, timeoutMs + 5_000)));
}

/** Merge the windows measured by several load generators. */
export function mergeCollected(parts: CollectResult[]) {
  return {
    received: parts.reduce((s, p) => s + p.received, 0),
    expected: parts.reduce((s, p) => s + p.expected, 0),
    complete: parts.every((p) => p.complete),
    latencies: parts.map((p) => p.latencies),
    firstSentAt: Math.min(...parts.map((p) => p.firstSentAt)),
    lastSentAt: Math.max(...parts.map((p) => p.lastSentAt)),
    lastReceivedAt: Math.max(...parts.map((p) => p.lastReceivedAt)),
    closedEarly: parts.reduce((s, p) => s + p.closedEarly, 0),
    closeCodes: [...new Set(parts.flatMap((p) => p.closeCodes))],
  };
}

export function benchToken(ctx: BenchContext, sub: string): Promise<string> {
  return signToken({ secret: ctx.secret, sub, workspace: BENCH_WORKSPACE, scopes: ALL_SCOPES, ttl: '2h' });
}

interface ParsedFrame {
  type: string;
  id?: string;
  runId?: string;
  seq?: number;
  time?: string;
  event?: { kind: string };
  [k: string]: unknown;
}

/**
 * The orchestrator's own runcast connection: starts runs (paused at a breakpoint),
 * continues them, and records a run as one viewer.
 */
export class ControlClient {
  private waiters: { pred: (f: ParsedFrame) => boolean; resolve(f: ParsedFrame): void }[] = [];
  private n = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (text.startsWith('{"type":"presence"')) return;
      // Frames of a run this connection follows are parsed whole: only small ones (before the pause) or the recording run.
      const f = JSON.parse(text) as ParsedFrame;
      for (const w of this.waiters)
        if (w.pred(f)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(f);
          break;
        }
    });
  }

  static async open(url: string, token: string): Promise<ControlClient> {
    const ws = new WebSocket(url, ['runcast.v1'], { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const c = new ControlClient(ws);
    await c.next((f) => f.type === 'ready');
    return c;
  }

  next(pred: (f: ParsedFrame) => boolean, timeoutMs = 120_000): Promise<ParsedFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('control connection: no matching frame in time')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  async request(msg: Record<string, unknown>): Promise<ParsedFrame> {
    const id = `c${++this.n}`;
    const reply = this.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === id);
    this.ws.send(JSON.stringify({ ...msg, id }));
    const r = await reply;
    if (r.type === 'error') throw new Error(`control ${String(msg.type)}: ${JSON.stringify(r)}`);
    return r;
  }

  /** Start a run that pauses before `breakpoint`; resolves with its id and the seq of its `node.paused`. */
  async startPaused(workflowId: string, breakpoint: string, input: unknown = {}): Promise<{ runId: string; pausedSeq: number }> {
    const paused = this.next((f) => f.type === 'event' && f.event?.kind === 'node.paused');
    const ack = await this.request({ type: 'run', workflowId, input, breakpoints: [breakpoint] });
    const p = await paused;
    return { runId: String(ack.runId), pausedSeq: p.seq! };
  }

  async unsubscribe(runId: string): Promise<void> {
    await this.request({ type: 'unsubscribe', runId });
  }

  async continueRun(runId: string): Promise<void> {
    await this.request({ type: 'continue', runId });
  }

  /** Wait for the terminal event of a run this connection follows. */
  terminal(runId: string, timeoutMs = 300_000): Promise<ParsedFrame> {
    return this.next((f) => f.type === 'event' && f.runId === runId && /^run\.(completed|failed|cancelled)$/.test(f.event?.kind ?? ''), timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}
