/** The real built-in node registry, with the real sandbox and a real store in a temp dir. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createNodeRegistry, type NodeRegistry } from '../../src/executor/node-type';
import { createBuiltinNodeTypes } from '../../src/nodes';
import { createSqliteDocumentStore } from '../../src/nodes/document-store';
import { createSandbox } from '../../src/sandbox';

export function realRegistry(opts: { nodeTimeoutMs?: number } = {}): { registry: NodeRegistry; close(): Promise<void> } {
  const sandbox = createSandbox({ poolSize: 1 });
  const store = createSqliteDocumentStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'runcast-reg-')) });
  const registry = createNodeRegistry(
    createBuiltinNodeTypes({ sandbox, store, codeTimeoutMs: 1000, codeMemoryMb: 32, maxDelayMs: opts.nodeTimeoutMs ?? 30_000 }),
  );
  return {
    registry,
    async close() {
      await sandbox.close();
      store.close();
    },
  };
}
