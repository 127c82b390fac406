/**
 * The adapter to the `ws` library — the only file that imports it. It owns the HTTP
 * upgrade: path, Origin allowlist (403), no tokens in the query string, bearer-token
 * authentication, the `runcast.v1` subprotocol, `maxPayload` (1009), no
 * permessage-deflate, and the heartbeat (ping; terminate a peer that missed one).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SUBPROTOCOL, WS_PATH } from '../protocol/codes';
import type { Gateway } from './gateway';
import type { GatewaySocket, Principal } from './socket';

export interface WsAdapterOptions {
  server: Server;
  gateway: Gateway;
  maxMessageBytes: number;
  heartbeatMs: number;
  /** null: only the server's own origin (the Origin whose host is the request's Host). */
  allowedOrigins: readonly string[] | null;
  verify(token: string): Promise<Principal>;
  onAuthFailure(reason: string): void;
}

export interface WsAdapter {
  close(): Promise<void>;
}

/** The gateway's view of one `ws` socket (a class: one small object per connection). */
class WsSocket implements GatewaySocket {
  constructor(private readonly ws: WebSocket) {}
  send(data: string | Buffer, written?: (err?: Error) => void): void {
    this.ws.send(data, { binary: false }, written);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }
}

function refuse(socket: Duplex, status: number, message: string) {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[] | null): boolean {
  if (origin === undefined) return true; // not a browser
  if (allowed) return allowed.includes(origin);
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function attachWebSocketGateway(opts: WsAdapterOptions): WsAdapter {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: true,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) return refuse(socket, 404, 'Not Found');
    if (!originAllowed(req.headers.origin, req.headers.host, opts.allowedOrigins)) return refuse(socket, 403, 'Forbidden');
    if (url.searchParams.has('token') || url.searchParams.has('access_token')) {
      opts.onAuthFailure('query_token');
      return refuse(socket, 400, 'Bad Request: tokens in the query string are refused');
    }
    const auth = req.headers.authorization;
    const token = auth ? /^Bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
    const upgrade = (principal?: Principal, badToken?: string) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (badToken !== undefined) return ws.close(4401, badToken.slice(0, 120));
        wire(ws, principal);
      });
    if (auth && !token) return upgrade(undefined, 'malformed Authorization header');
    if (!token) return upgrade();
    opts.verify(token).then(
      (p) => upgrade(p),
      (err: Error) => {
        opts.onAuthFailure('bad_token');
        upgrade(undefined, err.message);
      },
    );
  };

  const wire = (ws: WebSocket, principal?: Principal) => {
    alive.set(ws, true);
    const conn = opts.gateway.accept(new WsSocket(ws), principal);
    ws.on('message', (data, isBinary) => {
      if (isBinary) conn.onBinary();
      else conn.onText(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString());
    });
    ws.on('pong', () => alive.set(ws, true));
    ws.on('close', () => conn.onClose());
    ws.on('error', () => conn.onClose());
  };

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.heartbeatMs);
  heartbeat.unref();

  opts.server.on('upgrade', onUpgrade);
  return {
    async close() {
      clearInterval(heartbeat);
      opts.server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
