/**
 * What a node type is, as the executor sees it. The executor knows node types only
 * through a `NodeRegistry`; concrete types live in `src/nodes/` and are registered by
 * the composition root (`main.ts`), never imported here.
 */
import type { NodeErrorCode } from '../protocol/codes';
import type { ProblemDetail } from '../protocol/errors';
import type { RunInput } from '../protocol/messages';
import type { NodeDefinition } from '../protocol/workflow';

/** Thrown by a node to fail with a typed error; becomes a `node.failed` event. */
export class NodeError extends Error {
  readonly code: NodeErrorCode;
  readonly details?: unknown;
  constructor(code: NodeErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'NodeError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** The request a run answers (the `request` template root). Every part present. */
export interface RunRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  query: Record<string, unknown>;
  params: Record<string, string>;
  body: unknown;
}

export function normaliseRequest(input: RunInput | undefined): RunRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input?.headers ?? {})) headers[k.toLowerCase()] = String(v);
  return {
    method: (input?.method ?? 'GET').toUpperCase(),
    path: input?.path ?? '/',
    headers,
    query: input?.query ?? {},
    params: input?.params ?? {},
    body: input?.body ?? null,
  };
}

/** The scope a node's code and templates see (WORKFLOWS.md "Templates"). */
export interface TemplateScope {
  request: RunRequest;
  input: unknown;
  nodes: Record<string, unknown>;
  secrets: Record<string, string>;
  item?: unknown;
  index?: number;
}

export type LogLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';

export interface NodeContext {
  nodeId: string;
  /** The node's config with every template resolved (secrets included: never log it). */
  config: Record<string, unknown>;
  /** The raw, unresolved config from the definition. */
  rawConfig: Record<string, unknown>;
  /** Predecessor's output (`api.start`: the request). */
  input: unknown;
  scope: TemplateScope;
  /** Aborted when the run is cancelled or the node's time limit passes. */
  signal: AbortSignal;
  /** The node's time limit in ms (NODE_TIMEOUT_MS). */
  timeoutMs: number;
  log(level: LogLevel, message: string): void;
  /** Make a credential created during the run (a generated JWT) one of the run's secrets. */
  addSecret(value: string): void;
  /** Resolve a secret by name; throws NodeError when missing. */
  secret(name: string): string;
}

export interface NodeResult {
  output: unknown;
  /** Condition nodes: which edge to take. */
  branch?: 'true' | 'false';
}

export interface NodeType {
  /** The `type` string of definitions, e.g. `logic`. */
  readonly type: string;
  /** JSON Schema of the node's `config` (validated before anything runs). */
  readonly configSchema: Record<string, unknown>;
  /** Extra static checks (a syntax error in code); each problem's path is relative to the node's config. */
  check?(node: NodeDefinition): ProblemDetail[] | Promise<ProblemDetail[]>;
  /** Config keys whose strings are NOT template-resolved by the executor (the loop's body items are resolved by the executor itself). */
  readonly rawConfigKeys?: readonly string[];
  run(ctx: NodeContext): Promise<NodeResult>;
}

export interface NodeRegistry {
  get(type: string): NodeType | undefined;
  types(): string[];
}

export function createNodeRegistry(types: NodeType[]): NodeRegistry {
  const map = new Map<string, NodeType>();
  for (const t of types) {
    if (map.has(t.type)) throw new Error(`node type registered twice: ${t.type}`);
    map.set(t.type, t);
  }
  return { get: (type) => map.get(type), types: () => [...map.keys()] };
}
