/**
 * Test helper: build a `NodeContext` the way the executor would, recording what the
 * node logs and which secrets it adds.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import {
  NodeError,
  normaliseRequest,
  type LogLevel,
  type NodeContext,
  type TemplateScope,
} from '../../src/executor/node-type';

export interface TestNodeContext extends NodeContext {
  /** Every `ctx.log` call, in order. */
  logs: { level: LogLevel; message: string }[];
  /** Every `ctx.addSecret` call, in order. */
  addedSecrets: string[];
}

export interface MakeContextOptions extends Partial<Omit<NodeContext, 'scope'>> {
  scope?: Partial<TemplateScope>;
}

/**
 * A NodeContext with sensible defaults: node id `n`, empty config, a GET `/` request,
 * no secrets, a signal that never aborts, a 5 s node time limit. `rawConfig` defaults
 * to `config`; `input` defaults to `scope.input`. `secret(name)` reads `scope.secrets`
 * and throws `NodeError('node_error')` when the name is missing.
 */
export function makeContext(partial: MakeContextOptions = {}): TestNodeContext {
  const scope: TemplateScope = {
    request: normaliseRequest(undefined),
    input: partial.input ?? null,
    nodes: {},
    secrets: {},
    ...partial.scope,
  };
  const logs: TestNodeContext['logs'] = [];
  const addedSecrets: string[] = [];
  const config = partial.config ?? {};
  return {
    nodeId: 'n',
    timeoutMs: 5_000,
    signal: new AbortController().signal,
    ...partial,
    config,
    rawConfig: partial.rawConfig ?? config,
    input: partial.input ?? scope.input,
    scope,
    logs,
    addedSecrets,
    log: partial.log ?? ((level, message) => logs.push({ level, message })),
    addSecret: partial.addSecret ?? ((value) => addedSecrets.push(value)),
    secret:
      partial.secret ??
      ((name) => {
        const value = scope.secrets[name];
        if (value === undefined) throw new NodeError('node_error', `secret "${name}" is not defined`);
        return value;
      }),
  };
}

/**
 * Compile a node type's `configSchema` with ajv in strict mode (so a sloppy schema
 * fails the test) and return a validator that answers true/false.
 */
export function configValidator(schema: Record<string, unknown>): (config: unknown) => boolean {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: true, strictTuples: true, allowUnionTypes: true, strictRequired: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (config) => validate(config) as boolean;
}
