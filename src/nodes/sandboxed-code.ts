/**
 * What `logic` and `condition` share: running user code in the sandbox with the run's
 * scope as globals, forwarding its console output and mapping its failures.
 */
import { NodeError, type NodeContext, type NodeType } from '../executor/node-type';
import type { EvaluateRequest, Sandbox } from '../sandbox/types';

/** Limits for sandboxed code. */
export interface SandboxedCodeOptions {
  sandbox: Sandbox;
  /** CODE_TIMEOUT_MS. */
  codeTimeoutMs: number;
  /** CODE_MEMORY_MB. */
  codeMemoryMb: number;
}

/** The globals user code sees: `input`, `request`, `nodes`, `secrets`, and inside a loop `item`, `index`. */
export function sandboxGlobals(ctx: NodeContext): Record<string, unknown> {
  const { scope } = ctx;
  const globals: Record<string, unknown> = {
    input: ctx.input,
    request: scope.request,
    nodes: scope.nodes,
    secrets: scope.secrets,
  };
  if (scope.item !== undefined) globals['item'] = scope.item;
  if (scope.index !== undefined) globals['index'] = scope.index;
  return globals;
}

/**
 * Evaluate `code` for a node. Console output becomes `ctx.log` calls (also when the
 * code fails). Returns the value.
 *
 * @throws NodeError `code_error`, `timeout` or `memory_limit`, as the sandbox reports
 *   (details `{line}` when the sandbox knows it).
 */
export async function evaluateForNode(
  opts: SandboxedCodeOptions,
  kind: EvaluateRequest['kind'],
  code: string,
  ctx: NodeContext,
): Promise<unknown> {
  const result = await opts.sandbox.evaluate({
    kind,
    code,
    globals: sandboxGlobals(ctx),
    timeoutMs: opts.codeTimeoutMs,
    memoryMb: opts.codeMemoryMb,
    signal: ctx.signal,
  });
  for (const entry of result.logs) ctx.log(entry.level, entry.message);
  if (!result.ok) {
    const { code: errorCode, message, line } = result.error;
    const withLine = line !== undefined && !/\bline \d+/.test(message) ? `${message} (line ${line})` : message;
    throw new NodeError(errorCode, withLine, line !== undefined ? { line } : undefined);
  }
  return result.value;
}

/** A `check()` that reports a syntax error in the string config key `key` up front. */
export function syntaxCheck(sandbox: Sandbox, kind: EvaluateRequest['kind'], key: string): NonNullable<NodeType['check']> {
  return async (node) => {
    const code = node.config?.[key];
    if (typeof code !== 'string') return [];
    const problem = await sandbox.check(kind, code);
    return problem === null ? [] : [{ path: `/${key}`, message: problem }];
  };
}
