import { createNodeRegistry } from '../../../src/executor/node-type';
import { createBuiltinNodeTypes } from '../../../src/nodes';
import type { DocumentStore } from '../../../src/nodes/document-store';
import type { Sandbox } from '../../../src/sandbox/types';
import { configValidator } from '../../helpers/node-context';

describe('createBuiltinNodeTypes', () => {
  const types = createBuiltinNodeTypes({
    sandbox: {} as Sandbox,
    store: {} as DocumentStore,
    codeTimeoutMs: 1_000,
    codeMemoryMb: 16,
    maxDelayMs: 5_000,
  });

  it('gives every node type of WORKFLOWS.md, once each', () => {
    const registry = createNodeRegistry(types);
    expect(registry.types().sort()).toEqual(
      [
        'api.start',
        'request.parameters',
        'condition',
        'logic',
        'loop',
        'jwt.generate',
        'jwt.verify',
        'database',
        'http.request',
        'delay',
        'api.response',
      ].sort(),
    );
  });

  it.each(types.map((t) => [t.type, t] as const))('%s has a config schema that compiles in strict mode', (_type, t) => {
    expect(() => configValidator(t.configSchema)).not.toThrow();
    expect(t.configSchema['type']).toBe('object');
  });

  it('caps delay at maxDelayMs', () => {
    const valid = configValidator(types.find((t) => t.type === 'delay')!.configSchema);
    expect(valid({ ms: 5_000 })).toBe(true);
    expect(valid({ ms: 5_001 })).toBe(false);
  });
});
