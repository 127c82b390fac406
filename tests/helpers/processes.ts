/**
 * Real processes for the scale-out tests: `runcast serve` / `runcast worker` from the
 * compiled dist/ (`node bin/runcast.js …`), and private `redis-server` instances that a
 * test may stop and restart. Every wait is on the child's own output or exit, bounded
 * by a deadline that fails with the output so far; nothing sleeps.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/runcast.js');
const BUILT = path.join(ROOT, 'dist/src/cli/main.js');

/** Newest mtime of any .ts/.json file under `dir`. */
function newest(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) max = Math.max(max, newest(p));
    else if (/\.(ts|json)$/.test(entry.name)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

/**
 * Compile dist/ (tsconfig.build.json) when `dist/src/cli/main.js` is missing or older
 * than a source file. `npm test` builds first, so this only runs for a lone `npx jest`.
 * A type error elsewhere in the tree does not stop the emit; only a missing output fails.
 */
export function ensureBuilt(): void {
  const stale = () => !existsSync(BUILT) || statSync(BUILT).mtimeMs < Math.max(newest(path.join(ROOT, 'src')), newest(path.join(ROOT, 'schemas')));
  if (!stale()) return;
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    if (!existsSync(BUILT)) throw new Error(`building dist/ failed:\n${out}`);
    process.stderr.write(`scale-out tests: tsc reported errors (dist/ was emitted anyway):\n${out.slice(0, 2000)}\n`);
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process whose stdout and stderr are kept, with waits on its output and exit. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves with the first match of `re` in the output (past or future); rejects at the deadline or on exit. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  readonly alive: boolean;
  /** Send `signal` and wait for the exit (bounded: SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

export function spawnChild(name: string, command: string, args: string[], env: Record<string, string>, cwd = ROOT): Child {
  const proc = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let alive = true;
  const watchers = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const w of [...watchers]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => {
      alive = false;
      for (const w of [...watchers]) w();
      resolve({ code, signal });
    });
  });
  const tail = () => (text.length > 4000 ? `…${text.slice(-4000)}` : text);
  const child: Child = {
    name,
    process: proc,
    output: () => text,
    exited,
    get alive() {
      return alive;
    },
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = text.match(re);
          if (m) return done(() => resolve(m));
          if (!alive) return done(() => reject(new Error(`${name} exited before printing ${re}; output:\n${tail()}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${name}: no ${re} within ${timeoutMs} ms; output:\n${tail()}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          watchers.delete(check);
          settle();
        };
        watchers.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (!alive) return exited;
      proc.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([exited, forced]);
      clearTimeout(timer);
      if (alive) proc.kill('SIGKILL');
      return exited;
    },
  };
  return child;
}

/** A `runcast serve` process (a gateway): its HTTP and WebSocket URLs once it listens. */
export interface Gateway extends Child {
  url: string;
  wsUrl: string;
}

/** Start `runcast serve` and wait until it prints its listening address (PORT=0 is fine). */
export async function spawnGateway(name: string, env: Record<string, string>, timeoutMs = 30_000): Promise<Gateway> {
  const child = spawnChild(name, process.execPath, [BIN, 'serve'], { PATH: process.env.PATH ?? '', ...env });
  const m = await child.waitFor(/runcast gateway listening on (http:\/\/\S+)/, timeoutMs);
  const url = m[1]!;
  return Object.assign(child, { url, wsUrl: `${url.replace(/^http/, 'ws')}/v1/ws` });
}

/** Start `runcast worker` and wait until it logged its start (it then takes runs from the queue). */
export async function spawnWorker(name: string, env: Record<string, string>, timeoutMs = 30_000): Promise<Child> {
  const child = spawnChild(name, process.execPath, [BIN, 'worker'], { PATH: process.env.PATH ?? '', ...env });
  await child.waitFor(/"message":"runcast worker started"/, timeoutMs);
  return child;
}

/** A TCP port that was free a moment ago (bound on 127.0.0.1 port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A private redis-server (no persistence) that a test may stop and start again on the same port. */
export interface RedisServer {
  port: number;
  url: string;
  readonly running: boolean;
  /**
   * Start it (again) and wait until it accepts connections. `persistent`: with an
   * append-only file (fsync always) in its own directory, so a restart keeps the data;
   * otherwise it starts empty.
   */
  start(options?: { persistent?: boolean }): Promise<void>;
  /** Kill it (SIGKILL: an abrupt outage) and wait for the exit. */
  stop(): Promise<void>;
  /** Delete its data directory (after the last stop). */
  remove(): void;
}

export async function createRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), `runcast-redis-${port}-`));
  let child: Child | undefined;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return !!child?.alive;
    },
    async start(options = {}) {
      if (child?.alive) return;
      const persistence = options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--loglevel', 'notice'];
      child = spawnChild(`redis-server:${port}`, 'redis-server', args, { PATH: process.env.PATH ?? '' }, dir);
      await child.waitFor(/Ready to accept connections/, 15_000);
    },
    async stop() {
      await child?.stop('SIGKILL');
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
