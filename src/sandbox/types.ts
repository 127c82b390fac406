/**
 * The sandbox interface: isolated evaluation of user JavaScript for `logic` and
 * `condition` nodes. Only JSON crosses the boundary.
 */

export interface SandboxLog {
  level: 'log' | 'info' | 'warn' | 'error' | 'debug';
  message: string;
}

export interface EvaluateRequest {
  /** `function` — a function body (`logic`), `expression` — a single expression (`condition`). */
  kind: 'function' | 'expression';
  code: string;
  /**
   * Copied in as JSON: input, request, nodes, secrets, item, index. Keys must be
   * identifiers; `input`, `request`, `nodes`, `secrets`, `item` and `index` are always
   * defined (as `undefined` when absent).
   */
  globals: Record<string, unknown>;
  timeoutMs: number;
  memoryMb: number;
  /**
   * Aborting answers at once: `evaluate` rejects with `signal.reason` and the code is
   * stopped (its worker terminated when it does not stop by itself).
   */
  signal?: AbortSignal;
}

/** Why sandboxed code failed. */
export type EvaluateErrorCode = 'code_error' | 'timeout' | 'memory_limit';

export type EvaluateResult =
  | { ok: true; value: unknown; logs: SandboxLog[] }
  | { ok: false; error: { code: EvaluateErrorCode; message: string; line?: number }; logs: SandboxLog[] };

export interface Sandbox {
  evaluate(req: EvaluateRequest): Promise<EvaluateResult>;
  /** Syntax check without running: null when fine, else the message (with line). */
  check(kind: EvaluateRequest['kind'], code: string): Promise<string | null>;
  close(): Promise<void>;
}
