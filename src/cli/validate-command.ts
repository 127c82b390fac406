/** `runcast validate <file.json>`: check a definition offline, print every problem. */
import { promises as fs } from 'node:fs';
import { validateWorkflow } from '../executor/graph';
import { createNodeRegistry } from '../executor/node-type';
import { createBuiltinNodeTypes } from '../nodes';
import { createSandbox } from '../sandbox';

export async function validateDefinitionFile(file: string, io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  let def: unknown;
  try {
    def = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    io.err.write(`${file}: ${(err as Error).message}\n`);
    return 2;
  }
  const sandbox = createSandbox({ poolSize: 1 });
  try {
    const registry = createNodeRegistry(
      createBuiltinNodeTypes({
        sandbox,
        // Validation never touches the store.
        store: { insertOne: unreachable, findOne: unreachable, findMany: unreachable, updateOne: unreachable, deleteOne: unreachable, close: () => undefined } as never,
        codeTimeoutMs: 1000,
        codeMemoryMb: 32,
        maxDelayMs: Number.MAX_SAFE_INTEGER,
      }),
    );
    const result = await validateWorkflow(def, registry);
    if (result.ok) {
      io.out.write(`${file}: valid (${result.workflow.def.nodes.length} nodes)\n`);
      return 0;
    }
    io.err.write(`${file}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}\n`);
    for (const p of result.problems) io.err.write(`  ${p.path}: ${p.message}\n`);
    return 2;
  } finally {
    await sandbox.close();
  }
}

function unreachable(): never {
  throw new Error('validation does not use the store');
}
