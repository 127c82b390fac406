/**
 * Run events — the one discriminated union that flows unchanged from the executor
 * through the channel and the gateway to every client (PROTOCOL.md section 5).
 * Browser-safe: no node:* imports.
 */

export type RunId = string;
export type NodeId = string;
export type WorkflowId = string;
export type Workspace = string;
export type UserId = string;

/** A failure carried by an event (never a thrown exception across the wire). */
export interface EventError {
  code: string;
  message: string;
  details?: unknown;
}

export interface NodeSummary {
  id: NodeId;
  type: string;
  name?: string;
}

export interface EdgeSummary {
  from: NodeId;
  to: NodeId;
  when?: 'true' | 'false' | 'each' | 'done';
}

export interface HttpResponseValue {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface RunStartedEvent {
  kind: 'run.started';
  workflowId: WorkflowId;
  workflowName: string;
  startedBy: UserId;
  nodes: NodeSummary[];
  edges: EdgeSummary[];
}
export interface NodeStartedEvent {
  kind: 'node.started';
  nodeId: NodeId;
  nodeType: string;
  input: unknown;
  config: unknown;
  iteration?: number[];
}
export interface NodeLogEvent {
  kind: 'node.log';
  nodeId: NodeId;
  level: 'log' | 'info' | 'warn' | 'error' | 'debug';
  message: string;
  iteration?: number[];
}
export interface NodeCompletedEvent {
  kind: 'node.completed';
  nodeId: NodeId;
  output: unknown;
  durationMs: number;
  branch?: 'true' | 'false';
  iteration?: number[];
}
export interface NodeFailedEvent {
  kind: 'node.failed';
  nodeId: NodeId;
  error: EventError;
  durationMs: number;
  iteration?: number[];
}
export interface NodePausedEvent {
  kind: 'node.paused';
  nodeId: NodeId;
  iteration?: number[];
}
export interface RunCompletedEvent {
  kind: 'run.completed';
  response: HttpResponseValue;
  durationMs: number;
}
export interface RunFailedEvent {
  kind: 'run.failed';
  failedNodeId: NodeId | null;
  error: { code: string; message: string };
  skippedNodeIds: NodeId[];
  durationMs: number;
}
export interface RunCancelledEvent {
  kind: 'run.cancelled';
  cancelledBy: UserId;
  skippedNodeIds: NodeId[];
  durationMs: number;
}

export type RunEvent =
  | RunStartedEvent
  | NodeStartedEvent
  | NodeLogEvent
  | NodeCompletedEvent
  | NodeFailedEvent
  | NodePausedEvent
  | RunCompletedEvent
  | RunFailedEvent
  | RunCancelledEvent;

export type RunEventKind = RunEvent['kind'];

export const TERMINAL_KINDS: ReadonlySet<RunEventKind> = new Set(['run.completed', 'run.failed', 'run.cancelled']);

export function isTerminal(event: RunEvent): event is RunCompletedEvent | RunFailedEvent | RunCancelledEvent {
  return TERMINAL_KINDS.has(event.kind);
}

/** The `event` server message: one event of one run, in order. */
export interface EventFrame {
  type: 'event';
  runId: RunId;
  seq: number;
  time: string;
  event: RunEvent;
}

export type RunStatus = 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

/** The truncation marker that replaces a value larger than MAX_FIELD_BYTES. */
export interface TruncatedValue {
  $truncated: true;
  bytes: number;
  preview: string;
  ref: string;
}
