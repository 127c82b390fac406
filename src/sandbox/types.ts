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
  /** Copied in as JSON: input, request, nodes, secrets, item, index. */
  globals: Record<string, unknown>;
  timeoutMs: number;
  memoryMb: number;
  signal?: AbortSignal;
}

export type EvaluateResult =
  | { ok: true; value: unknown; logs: SandboxLog[] }
  | { ok: false; error: { code: 'code_error' | 'timeout' | 'memory_limit'; message: string; line?: number }; logs: SandboxLog[] };

export interface Sandbox {
  evaluate(req: EvaluateRequest): Promise<EvaluateResult>;
  /** Syntax check without running: null when fine, else the message (with line). */
  check(kind: EvaluateRequest['kind'], code: string): Promise<string | null>;
  close(): Promise<void>;
}
