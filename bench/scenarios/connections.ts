/**
 * Scenario 3, idle connections: N authenticated runcast connections (bearer token in
 * the handshake, one user each, `ready` received) against a bare `ws` server holding as
 * many (it sends one small frame on connection, so both are waited for the same way).
 * Each server runs alone in a child process started with --expose-gc; memory is read
 * after GC with none, half and all of the connections open (RSS, and V8 heap + external
 * + array buffers); the cost of a connection is the slope between half and all. Clients
 * connect from several 127.0.1.x source addresses, 64 handshakes in flight per load
 * generator. Accept time: first handshake started to last `ready` (both halves).
 */
import { closeEverywhere, openEverywhere, quietEverywhere, runcastEnv, startServerProcess, type BenchContext } from '../harness';
import { ratio, round } from '../stats';

export interface ConnectionsPoint {
  connections: number;
  opened: number;
  failed: number;
  acceptMs: number;
  acceptPerSec: number;
  /** Server CPU time per accepted connection (handshake, token check, `ready`). */
  acceptCpuUsPerConn: number;
  /** Slope from N/2 to N connections (after GC): RSS, and V8 heap + external + array buffers. */
  rssBytesPerConn: number;
  heapBytesPerConn: number;
  /** The same from 0 to N (includes one-time costs). */
  rssBytesPerConnFromZero: number;
  heapBytesPerConnFromZero: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  serverCountedConnections: number;
}

export interface ConnectionsResult {
  connections: number;
  runcast: ConnectionsPoint;
  ws: ConnectionsPoint;
  ratios: { rssPerConnVsWs: number; heapPerConnVsWs: number; acceptTimeVsWs: number; acceptCpuVsWs: number };
}

const LOCAL_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.1.${i + 1}`);

type Mem = NodeJS.MemoryUsage & { connections: number };
const heapOf = (m: Mem) => m.heapUsed + m.external + m.arrayBuffers;

export async function connectionsScenario(ctx: BenchContext): Promise<ConnectionsResult> {
  const n = ctx.quick ? 1_000 : 10_000;
  const measure = async (kind: 'runcast' | 'ws'): Promise<ConnectionsPoint> => {
    ctx.log(`connections: ${n} idle ${kind} connections`);
    const server = await startServerProcess(kind, kind === 'runcast' ? runcastEnv(ctx, []) : {}, { gc: true });
    try {
      const auth = kind === 'runcast' ? { secret: ctx.secret, workspace: 'bench', subPrefix: 'warm-', scopes: ['runs:watch'] } : undefined;
      // Warm-up: the code paths of a handshake, then back to idle.
      await openEverywhere(ctx, 200, { kind, url: server.url, ...(auth ? { auth } : {}), localAddresses: LOCAL_ADDRESSES });
      await closeEverywhere(ctx);
      await server.proc.call('settle', { timeoutMs: 10_000 });
      // Memory is read after GC with half and with all the connections open: the slope
      // between the two is the cost of a connection, free of one-time costs (code, pools).
      const before = await server.proc.call<Mem>('memory');
      let acceptCpuMs = 0;
      const open = async (count: number, tag: string) => {
        await server.proc.call('cpu');
        const r = await openEverywhere(ctx, count, {
          kind,
          url: server.url,
          ...(auth ? { auth: { ...auth, subPrefix: `idle-${tag}-` } } : {}),
          localAddresses: LOCAL_ADDRESSES,
          concurrency: 64,
        });
        acceptCpuMs += (await server.proc.call<{ ms: number }>('cpu')).ms;
        return r;
      };
      const half = Math.floor(n / 2);
      const first = await open(half, 'a');
      await quietEverywhere(first.used, 500);
      await server.proc.call('settle', { timeoutMs: 10_000 });
      const middle = await server.proc.call<Mem>('memory');
      const second = await open(n - half, 'b');
      await quietEverywhere(second.used, 500);
      await server.proc.call('settle', { timeoutMs: 10_000 });
      const after = await server.proc.call<Mem>('memory');
      await closeEverywhere(ctx);
      const opened = { opened: first.opened + second.opened, failed: first.failed + second.failed, acceptMs: first.acceptMs + second.acceptMs };
      const added = second.opened;
      return {
        connections: n,
        opened: opened.opened,
        failed: opened.failed,
        acceptMs: round(opened.acceptMs),
        acceptPerSec: round((opened.opened / opened.acceptMs) * 1000),
        acceptCpuUsPerConn: round((acceptCpuMs * 1000) / Math.max(1, opened.opened)),
        rssBytesPerConn: round((after.rss - middle.rss) / added),
        heapBytesPerConn: round((heapOf(after) - heapOf(middle)) / added),
        rssBytesPerConnFromZero: round((after.rss - before.rss) / opened.opened),
        heapBytesPerConnFromZero: round((heapOf(after) - heapOf(before)) / opened.opened),
        rssBeforeMb: round(before.rss / 2 ** 20),
        rssAfterMb: round(after.rss / 2 ** 20),
        serverCountedConnections: after.connections,
      };
    } finally {
      await server.stop();
    }
  };
  const runcast = await measure('runcast');
  const ws = await measure('ws');
  return {
    connections: n,
    runcast,
    ws,
    ratios: {
      rssPerConnVsWs: ratio(runcast.rssBytesPerConn, ws.rssBytesPerConn),
      heapPerConnVsWs: ratio(runcast.heapBytesPerConn, ws.heapBytesPerConn),
      acceptTimeVsWs: ratio(runcast.acceptMs, ws.acceptMs),
      acceptCpuVsWs: ratio(runcast.acceptCpuUsPerConn, ws.acceptCpuUsPerConn),
    },
  };
}
