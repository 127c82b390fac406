/**
 * Client → server and server → client messages (PROTOCOL.md sections 3, 4).
 * Shared as types by the gateway and the client library. Browser-safe.
 */
import type { ErrorCode } from './codes';
import type { EventFrame, RunId, WorkflowId } from './events';
import type { WorkflowDefinition } from './workflow';

export interface RunInput {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  query?: Record<string, unknown>;
  params?: Record<string, string>;
  body?: unknown;
}

export interface AuthMessage { type: 'auth'; token: string }
export interface RunMessage {
  type: 'run';
  id: string;
  workflowId?: WorkflowId;
  workflow?: WorkflowDefinition;
  input?: RunInput;
  breakpoints?: string[];
}
export interface SubscribeMessage { type: 'subscribe'; id: string; runId: RunId; fromSeq?: number }
export interface UnsubscribeMessage { type: 'unsubscribe'; id: string; runId: RunId }
export interface CancelMessage { type: 'cancel'; id: string; runId: RunId }
export interface ContinueMessage { type: 'continue'; id: string; runId: RunId; step?: boolean }
export interface PingMessage { type: 'ping'; id: string }

export type ClientMessage =
  | AuthMessage
  | RunMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | CancelMessage
  | ContinueMessage
  | PingMessage;

export interface ReadyMessage {
  type: 'ready';
  connectionId: string;
  user: string;
  workspace: string;
  scopes: string[];
  heartbeatMs: number;
  maxMessageBytes: number;
}
export interface AckMessage { type: 'ack'; id: string; runId?: RunId; lastSeq?: number }
export interface ErrorMessage { type: 'error'; id?: string; code: ErrorCode; message: string; details?: unknown }
export interface PresenceMessage { type: 'presence'; runId: RunId; viewers: number }
export interface PongMessage { type: 'pong'; id: string }

export type ServerMessage = ReadyMessage | AckMessage | ErrorMessage | EventFrame | PresenceMessage | PongMessage;

export const Scopes = ['runs:execute', 'runs:watch', 'runs:cancel'] as const;
export type Scope = (typeof Scopes)[number];
