/**
 * The tiny socket interface the gateway drives. Only `ws.ts` knows the `ws` library;
 * the connection logic knows nothing but this.
 */
export interface GatewaySocket {
  /** Send one text frame (a pre-serialised Buffer is sent as is, as text); `written` runs once it is handed to the OS. */
  send(data: string | Buffer, written?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the network. */
  readonly bufferedAmount: number;
  readonly open: boolean;
}

/** The identity established by a token. */
export interface Principal {
  user: string;
  workspace: string;
  scopes: readonly string[];
  /** Token expiry, seconds since the epoch. */
  exp: number;
}
