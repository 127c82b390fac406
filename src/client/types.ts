/**
 * The public types of the runcast client library. Type-only: browser-safe, no runtime.
 */
import type { EventFrame, RunId } from '../protocol/events';
import type { ReadyMessage, RunInput } from '../protocol/messages';
import type { WorkflowDefinition } from '../protocol/workflow';

/**
 * The part of the WebSocket API the client uses: the browser's `WebSocket` and the
 * `ws` package's class both fit.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // Event parameter types differ between the DOM and `ws`; the client reads
  // `data` (message) and `code`/`reason` (close) only.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** A token, or a function giving a fresh one (called again to refresh it). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ReconnectOptions {
  /** First delay after an abnormal close, in ms. Default 250. */
  initialDelayMs?: number;
  /** Ceiling of the exponential backoff, in ms. Default 10 000. */
  maxDelayMs?: number;
  /** Consecutive failed attempts before giving up (`connection_lost`). Default Infinity. */
  maxAttempts?: number;
}

export type ClientStatus = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface StatusInfo {
  /** Reconnect attempt number (1 for the first retry). */
  attempt?: number;
  /** Delay before that attempt, in ms. */
  delayMs?: number;
  /** Close code of the connection that was lost. */
  closeCode?: number;
  reason?: string;
  /** Why the client gave up (status `closed` not caused by `close()`). */
  error?: ClientErrorLike;
}

/** The shape of `ClientError` (the class itself is exported by `client.ts`). */
export interface ClientErrorLike extends Error {
  /**
   * A protocol error code (`not_found`, `workflow_invalid`, `forbidden`, …) from an
   * `error` reply, or a client-side code: `unauthorized` (4401), `auth_timeout`
   * (4408), `rate_limited` (4429), `message_too_large` (1009), `connection_failed`
   * (the first connection could not be made), `connection_lost` (a request was in
   * flight when the connection dropped, or reconnecting gave up), `closed` (the client
   * was closed), `token_error` (the token function threw).
   */
  readonly code: string;
  /** `details` of the `error` reply (for `invalid_message` / `workflow_invalid`: `{path, message}[]`). */
  readonly details?: unknown;
  /** The WebSocket close code behind the error, when there was one. */
  readonly closeCode?: number;
}

export interface ClientOptions {
  /** `ws://host:port/v1/ws`. */
  url: string;
  token: TokenSource;
  /** WebSocket class; default `globalThis.WebSocket`. In Node pass `require('ws')`. */
  WebSocket?: WebSocketConstructor;
  /** Offered subprotocols; default `['runcast.v1']`. */
  protocols?: string[];
  /** Reconnect with exponential backoff and jitter after an abnormal close (default on). `false`: never. */
  reconnect?: ReconnectOptions | false;
  /**
   * Send a `ping` message this often once ready, and drop (then resume) a connection
   * whose previous ping went unanswered. Default: the server's `heartbeatMs`, at least
   * 1 000 ms. `false`: off.
   */
  keepAliveMs?: number | false;
  onStatus?(status: ClientStatus, info: StatusInfo): void;
  /** Errors that answer no request (e.g. a refused token refresh, a repaired gap). */
  onError?(error: ClientErrorLike): void;
}

export interface RunOptions {
  /** A deployed workflow (exactly one of `workflowId` and `workflow`). */
  workflowId?: string;
  /** An inline definition. */
  workflow?: WorkflowDefinition;
  /** The API request the run answers. */
  input?: RunInput;
  /** Node ids to pause before. */
  breakpoints?: string[];
}

export interface SubscribeOptions {
  /** Deliver events with `seq > fromSeq`. Default 0 (the whole history). */
  fromSeq?: number;
}

/** An event frame with the exact text it arrived as. */
export interface ReceivedFrame {
  frame: EventFrame;
  raw: string;
}

/**
 * One run followed by the client. Iterate it (`for await (const frame of handle)`) for
 * every event frame in seq order, each exactly once across reconnects; the iteration
 * ends after the terminal event. Each iteration starts from the first frame the handle
 * received. It throws a `ClientError` when the run cannot be followed any longer
 * (the client was closed, authentication failed, the history expired).
 */
export interface RunHandle extends AsyncIterable<EventFrame> {
  readonly runId: RunId;
  /** The last seq delivered (0 before any). */
  readonly lastSeq: number;
  /** The terminal frame once it arrived. */
  readonly terminal: EventFrame | undefined;
  /** Last viewer count announced for the run, if any. */
  readonly viewers: number | undefined;
  /** Resolves with the terminal frame; rejects like the iterator. */
  readonly done: Promise<EventFrame>;
  events(): AsyncIterableIterator<EventFrame>;
  /** Like `events()`, with each frame's raw text (for printing it unchanged). */
  received(): AsyncIterableIterator<ReceivedFrame>;
  /** Called with the viewer count on every `presence` message; returns an unsubscribe function. */
  onPresence(listener: (viewers: number) => void): () => void;
  cancel(): Promise<void>;
  continue(options?: { step?: boolean }): Promise<void>;
  /** Stop following the run (ends the iterators). */
  unsubscribe(): Promise<void>;
}

export interface ClientStats {
  /** Connections made after the first one. */
  reconnects: number;
  /** Frames dropped because their seq had been delivered already. */
  duplicatesDropped: number;
  /** Times a seq gap was seen and repaired by resubscribing. */
  gapsRepaired: number;
}

export interface RuncastClient {
  run(options: RunOptions): Promise<RunHandle>;
  subscribe(runId: RunId, options?: SubscribeOptions): Promise<RunHandle>;
  cancel(runId: RunId): Promise<void>;
  continue(runId: RunId, options?: { step?: boolean }): Promise<void>;
  /** Round trip of a `ping` message, in ms. */
  ping(): Promise<number>;
  /** Resolves once authenticated (now, or after the current (re)connect); rejects if the client gave up. */
  ready(): Promise<ReadyMessage>;
  readonly status: ClientStatus;
  readonly stats: Readonly<ClientStats>;
  /** Close the connection for good; pending requests reject with `closed`. */
  close(): void;
  /**
   * Test hook: drop the underlying socket abruptly (`terminate()` where the WebSocket
   * class has it, else a 4000 close), as a network failure would. The client resumes.
   */
  _debugDropConnection(): void;
}
