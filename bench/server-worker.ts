/**
 * A server under test, alone in its process so that the CPU time and memory it uses are
 * its own: runcast itself (`startServer`), a bare `ws` server (the floor of the stack),
 * or a Socket.IO server (what a team would build instead). On command the two baselines
 * broadcast a recorded runcast run — exactly its frame texts, `time` re-stamped at
 * sending — at the pace the run produced them. Also reports memory (after GC, when
 * started with --expose-gc), CPU time, event-loop settling, and takes CPU profiles.
 */
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Server as SocketIoServer } from 'socket.io';
import { loadConfig } from '../src/config/config';
import { startServer, type RunningServer } from '../src/main';
import { serveCommands, sleep } from './ipc';

export type ServerKind = 'runcast' | 'ws' | 'socketio';

/** A recorded run: the frames sent after the breakpoint, with their offsets from the first one. */
export interface Recording {
  frames: { offsetMs: number; text: string }[];
}

let stopServer: (() => Promise<void>) | undefined;
let broadcast: ((text: string) => void) | undefined;
let connectionCount: () => number = () => NaN;
let cpuMark = process.cpuUsage();
let session: Session | undefined;

function post<T = unknown>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function startBareWs(): Promise<{ url: string }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1_048_576 });
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.send('{"type":"ready"}');
  });
  // The floor: one Buffer per frame, written to every client; no queue, no limits.
  broadcast = (text) => {
    const data = Buffer.from(text);
    for (const c of wss.clients) c.send(data, { binary: false });
  };
  connectionCount = () => wss.clients.size;
  const port = await listen(server);
  stopServer = async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { url: `ws://127.0.0.1:${port}` };
}

async function startSocketIo(): Promise<{ url: string }> {
  const server = http.createServer();
  const io = new SocketIoServer(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  io.on('connection', (socket) => {
    void socket.join('run');
    socket.emit('ready');
  });
  // What a team would write: relay each frame of the run to the run's room.
  broadcast = (text) => io.to('run').emit('event', text);
  connectionCount = () => io.engine.clientsCount;
  const port = await listen(server);
  stopServer = async () => {
    io.disconnectSockets(true);
    await new Promise<void>((r) => io.close(() => r()));
  };
  return { url: `http://127.0.0.1:${port}` };
}

async function startRuncast(env: Record<string, string>): Promise<{ url: string }> {
  // Log lines are formatted as in production (info) and then dropped.
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const server: RunningServer = await startServer(loadConfig(env), { logStream: sink });
  stopServer = () => server.close();
  return { url: server.url };
}

const handlers = {
  async start(args: { kind: ServerKind; env?: Record<string, string> }): Promise<{ url: string; pid: number }> {
    const r = args.kind === 'runcast' ? await startRuncast(args.env ?? {}) : args.kind === 'ws' ? await startBareWs() : await startSocketIo();
    return { ...r, pid: process.pid };
  },

  /**
   * Broadcast the recording in `file`: every frame due (by its offset) is sent in one
   * burst, as the run emitted it, then the loop yields; `time` is re-stamped at sending.
   */
  async replay(args: { file: string }): Promise<{ frames: number; ms: number }> {
    if (!broadcast) throw new Error('replay: this server is not a baseline');
    const rec = JSON.parse(readFileSync(args.file, 'utf8')) as Recording;
    const parts = rec.frames.map((f) => {
      const at = f.text.indexOf('"time":"') + 8;
      if (at < 8) throw new Error('replay: a frame without time');
      return { offsetMs: f.offsetMs, head: f.text.slice(0, at), tail: f.text.slice(at + 24) };
    });
    const t0 = Date.now();
    let i = 0;
    while (i < parts.length) {
      const wait = t0 + parts[i]!.offsetMs - Date.now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      while (i < parts.length && t0 + parts[i]!.offsetMs <= Date.now()) {
        const p = parts[i++]!;
        broadcast(p.head + new Date().toISOString() + p.tail);
      }
      await new Promise((r) => setImmediate(r));
    }
    return { frames: parts.length, ms: Date.now() - t0 };
  },

  /** Memory after garbage collection (run the process with --expose-gc), and the server's connection count. */
  async memory(): Promise<NodeJS.MemoryUsage & { connections: number; gc: boolean }> {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i++) {
      gc?.();
      await sleep(100);
    }
    return { ...process.memoryUsage(), connections: connectionCount(), gc: gc !== undefined };
  },

  /** CPU time (user + system, all threads) since the previous call, in ms. */
  cpu(): { ms: number } {
    const d = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    return { ms: (d.user + d.system) / 1000 };
  },

  /** Wait until the event loop is nearly idle (utilisation under 5 % over 200 ms), at most `timeoutMs`. */
  async settle(args: { timeoutMs: number }): Promise<{ ms: number; utilisation: number }> {
    const t0 = Date.now();
    let u = 1;
    while (Date.now() - t0 < args.timeoutMs) {
      const a = performance.eventLoopUtilization();
      await sleep(200);
      u = performance.eventLoopUtilization(a).utilization;
      if (u < 0.05) break;
    }
    return { ms: Date.now() - t0, utilisation: u };
  },

  async profileStart(): Promise<null> {
    session = new Session();
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 500 });
    await post('Profiler.start');
    return null;
  },

  /** Stop the profiler and write the profile (the format of `node --cpu-prof`) to `file`. */
  async profileStop(args: { file: string }): Promise<null> {
    const { profile } = await post<{ profile: unknown }>('Profiler.stop');
    writeFileSync(args.file, JSON.stringify(profile));
    session!.disconnect();
    session = undefined;
    return null;
  },
};

serveCommands(handlers as unknown as Record<string, (a: never) => unknown>, async () => {
  await stopServer?.();
});
