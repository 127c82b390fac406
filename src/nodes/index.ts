/**
 * The built-in node types (WORKFLOWS.md "Node types"), ready to register with
 * `createNodeRegistry` in the composition root.
 */
import type { NodeType } from '../executor/node-type';
import type { Sandbox } from '../sandbox/types';
import { createApiResponseNode } from './api-response';
import { createApiStartNode } from './api-start';
import { createConditionNode } from './condition';
import { createDatabaseNode } from './database';
import { createDelayNode } from './delay';
import type { DocumentStore } from './document-store';
import { createHttpRequestNode } from './http-request';
import { createJwtGenerateNode } from './jwt-generate';
import { createJwtVerifyNode } from './jwt-verify';
import { createLogicNode } from './logic';
import { createLoopNode } from './loop';
import { createRequestParametersNode } from './request-parameters';

export { createApiResponseNode, type ApiResponse } from './api-response';
export { createApiStartNode, HTTP_METHODS } from './api-start';
export { createConditionNode } from './condition';
export { createDatabaseNode, DATABASE_OPERATIONS, type DatabaseOperation } from './database';
export { createDelayNode } from './delay';
export {
  createSqliteDocumentStore,
  type DocumentFilter,
  type DocumentStore,
  type StoredDocument,
} from './document-store';
export { createHttpRequestNode, type HttpResponseOutput } from './http-request';
export { createJwtGenerateNode, DEFAULT_JWT_SECRET } from './jwt-generate';
export { createJwtVerifyNode } from './jwt-verify';
export { createLogicNode } from './logic';
export { createLoopNode, DEFAULT_MAX_ITERATIONS } from './loop';
export { createRequestParametersNode, type ParameterViolation } from './request-parameters';
export type { SandboxedCodeOptions } from './sandboxed-code';

/** What the built-in node types need from the composition root. */
export interface BuiltinNodeDeps {
  /** Runs `logic` and `condition` code. */
  sandbox: Sandbox;
  /** Backs the `database` node. */
  store: DocumentStore;
  /** CODE_TIMEOUT_MS: time limit of one code evaluation. */
  codeTimeoutMs: number;
  /** CODE_MEMORY_MB: memory limit of one code evaluation. */
  codeMemoryMb: number;
  /** Largest `ms` a `delay` node may ask for (NODE_TIMEOUT_MS). */
  maxDelayMs: number;
}

/** Every built-in node type, one each. */
export function createBuiltinNodeTypes(deps: BuiltinNodeDeps): NodeType[] {
  const code = { sandbox: deps.sandbox, codeTimeoutMs: deps.codeTimeoutMs, codeMemoryMb: deps.codeMemoryMb };
  return [
    createApiStartNode(),
    createRequestParametersNode(),
    createConditionNode(code),
    createLogicNode(code),
    createLoopNode(),
    createJwtGenerateNode(),
    createJwtVerifyNode(),
    createDatabaseNode({ store: deps.store }),
    createHttpRequestNode(),
    createDelayNode({ maxDelayMs: deps.maxDelayMs }),
    createApiResponseNode(),
  ];
}
