/**
 * The bus: per-run ordered logs with fan-out, run metadata, large values, control
 * messages, presence and run dispatch. One interface; `memory.ts` (the embedded
 * default) and `redis.ts` implement it and pass one contract suite
 * (tests/contract/bus.contract.ts).
 */
import type { RunEventKind, RunId, RunStatus, UserId, Workspace, WorkflowId } from '../protocol/events';
import type { RunInput } from '../protocol/messages';
import type { WorkflowDefinition } from '../protocol/workflow';

/**
 * One event frame, already redacted and serialised (the exact wire text of the
 * `event` message). Only the redaction layer's publisher makes these.
 */
export interface SealedFrame {
  readonly runId: RunId;
  readonly seq: number;
  readonly kind: RunEventKind;
  /** The exact JSON text sent to every viewer. */
  readonly text: string;
}

export interface RunMeta {
  runId: RunId;
  workflowId: WorkflowId;
  workspace: Workspace;
  startedBy: UserId;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  lastSeq: number;
}

export interface Subscription {
  /** The run's last seq when the subscription was made. */
  readonly lastSeq: number;
  close(): void;
}

/** A run handed to an executor (possibly on another process). */
export interface RunJob {
  runId: RunId;
  workflow: WorkflowDefinition;
  input: RunInput;
  breakpoints: string[];
  startedBy: UserId;
  workspace: Workspace;
}

export type ControlCommand =
  | { type: 'cancel'; runId: RunId; by: UserId }
  | { type: 'continue'; runId: RunId; step: boolean };

export interface Bus {
  /** Append the next frame of its run (seq = previous + 1; the publisher is the single writer). */
  append(frame: SealedFrame): Promise<void>;
  /** Frames with seq > fromSeq, in order. */
  history(runId: RunId, fromSeq: number): Promise<SealedFrame[]>;
  /**
   * Deliver every frame with seq > fromSeq: history first, then live frames, in order,
   * without gap or duplicate, even when frames are appended concurrently.
   */
  subscribe(runId: RunId, fromSeq: number, onFrame: (frame: SealedFrame) => void): Promise<Subscription>;
  /** History and values of a run are dropped ttlMs from now. */
  expire(runId: RunId, ttlMs: number): Promise<void>;

  createRun(meta: RunMeta): Promise<void>;
  getRun(runId: RunId): Promise<RunMeta | undefined>;
  updateRun(runId: RunId, patch: Partial<Omit<RunMeta, 'runId'>>): Promise<void>;

  putValue(runId: RunId, ref: string, json: string): Promise<void>;
  getValue(runId: RunId, ref: string): Promise<string | undefined>;

  /** Control commands reach whoever executes the run. */
  sendControl(cmd: ControlCommand): Promise<void>;
  onControl(handler: (cmd: ControlCommand) => void): Promise<() => void>;

  /** Presence: change this instance's viewer count for a run; returns the total over all instances. */
  presence(runId: RunId, delta: number): Promise<number>;
  onPresence(handler: (runId: RunId, viewers: number) => void): Promise<() => void>;

  /** Run dispatch: a job is taken by exactly one executor. */
  enqueue(job: RunJob): Promise<void>;
  /** Start consuming jobs; returns a stop function. */
  consume(handler: (job: RunJob) => Promise<void>): Promise<() => Promise<void>>;

  /** Health of the backing store (memory: always true). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
