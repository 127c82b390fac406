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
  /**
   * Append the next frame of its run (seq = previous + 1; the publisher is the single writer).
   * Also sets the run's `lastSeq` when its meta exists. Rejects when seq is not previous + 1,
   * except that re-appending the identical stored frame is a no-op (a safe retry).
   */
  append(frame: SealedFrame): Promise<void>;
  /**
   * Frames with seq > fromSeq, in order ([] for an unknown or expired run).
   * Rejects with RuncastError `history_expired` when frames after fromSeq were trimmed.
   */
  history(runId: RunId, fromSeq: number): Promise<SealedFrame[]>;
  /**
   * Deliver every frame with seq > fromSeq: history first, then live frames, in order,
   * without gap or duplicate, even when frames are appended concurrently.
   * The history is delivered to onFrame before the returned promise resolves (a caller
   * that must send something first, such as the `ack`, buffers it). An exception thrown
   * by onFrame is reported and does not disturb other subscribers.
   * Rejects with RuncastError `history_expired` when frames after fromSeq were trimmed.
   */
  subscribe(runId: RunId, fromSeq: number, onFrame: (frame: SealedFrame) => void): Promise<Subscription>;
  /**
   * History and values of a run are dropped ttlMs from now; its meta stays as long again
   * (a tombstone, so a late subscriber is told `history_expired` rather than `not_found`).
   */
  expire(runId: RunId, ttlMs: number): Promise<void>;

  createRun(meta: RunMeta): Promise<void>;
  getRun(runId: RunId): Promise<RunMeta | undefined>;
  /** Rejects with RuncastError `not_found` when the run does not exist (or expired). */
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
  /**
   * Start consuming jobs; returns a stop function (no job reaches this handler once it
   * resolved; jobs already handed over keep running). Jobs are handled concurrently.
   * The handler's promise should settle when the run has ended: while it is pending the
   * job's lease is renewed (Redis), so other instances do not treat the run as lost.
   * `leaseLost` is aborted when this instance lost the job's lease (it was cut off from
   * Redis long enough for another instance to end the run): the handler must stop the run.
   */
  consume(handler: (job: RunJob, leaseLost: AbortSignal) => Promise<void>): Promise<() => Promise<void>>;
  /**
   * Optional (scale-out buses only). Take over jobs whose executor stopped renewing its
   * lease (a crashed instance) and hand each to handler, which ends the run (typically a
   * `run.failed` with `worker_lost`; the run may also have ended already). A job whose
   * handler rejects is offered again later. Returns how many jobs were handled.
   * Call it periodically (e.g. every leaseMs).
   */
  reapLostRuns?(handler: (job: RunJob) => Promise<void>): Promise<number>;
  /**
   * Optional (scale-out buses only). Hold a lease on a run this instance executes outside
   * the queue (standard execution), renewed until the returned release is called. If
   * the instance dies, `reapLostHeldRuns` on another instance hands the run to handler
   * (exactly one instance does), which ends it with `worker_lost`.
   */
  holdRun?(runId: RunId): Promise<() => Promise<void>>;
  reapLostHeldRuns?(handler: (runId: RunId) => Promise<void>): Promise<number>;

  /** Health of the backing store (memory: true until closed). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
