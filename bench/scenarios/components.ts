/**
 * Scenario 5, components: the redaction layer against `JSON.stringify` of the same event
 * (bench/redaction.ts), and the sandbox against a bare QuickJS call (bench/sandbox.ts).
 * Both run in the orchestrator process while no server or load generator is busy.
 */
import { benchRedaction } from '../redaction';
import { benchSandbox } from '../sandbox';
import type { BenchContext } from '../harness';

export interface ComponentsResult {
  redaction: Record<string, number>;
  sandbox: Record<string, number>;
}

export async function componentsScenario(ctx: BenchContext): Promise<ComponentsResult> {
  ctx.log('components: redaction');
  const redaction = await benchRedaction({ quick: ctx.quick });
  ctx.log('components: sandbox');
  const sandbox = await benchSandbox({ quick: ctx.quick });
  return { redaction, sandbox };
}
