import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARS, loadConfig } from '../../../src/config/config';

const readme = readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080, host: '127.0.0.1', authJwtSecret: null, workflowsDir: './workflows', dataDir: './data', bus: 'memory',
      maxMessageBytes: 1_048_576, maxFieldBytes: 65_536, historyTtlMs: 900_000, authTimeoutMs: 5_000,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable and the SECRET_ ones', () => {
    const c = loadConfig({ PORT: '0', ALLOWED_ORIGINS: 'https://a.example, https://b.example', EXECUTE: 'false', SECRET_API_KEY: 'abcdefgh' });
    expect(c.port).toBe(0);
    expect(c.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.execute).toBe(false);
    expect(c.secretEnv).toEqual({ SECRET_API_KEY: 'abcdefgh' });
  });

  it('lists every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'eighty', BUS: 'kafka', MAX_FIELD_BYTES: '10', LOG_LEVEL: 'loud' })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/PORT[\s\S]*MAX_FIELD_BYTES[\s\S]*/) }),
    );
    try {
      loadConfig({ PORT: 'eighty', BUS: 'kafka', MAX_FIELD_BYTES: '10', LOG_LEVEL: 'loud' });
    } catch (err) {
      const message = (err as Error).message;
      for (const name of ['PORT', 'BUS', 'MAX_FIELD_BYTES', 'LOG_LEVEL']) expect(message).toContain(name);
    }
  });

  it('needs REDIS_URL with BUS=redis', () => {
    expect(() => loadConfig({ BUS: 'redis' })).toThrow(/REDIS_URL/);
  });

  it.each(CONFIG_VARS.filter((v) => v.minimum !== undefined).map((v) => [v.env, v.minimum!] as const))(
    'takes %s at its minimum %i and refuses one less',
    (env, min) => {
      expect(() => loadConfig({ [env]: String(min) })).not.toThrow();
      expect(() => loadConfig({ [env]: String(min - 1) })).toThrow(new RegExp(env));
    },
  );
});

describe('the README configuration table', () => {
  it.each(CONFIG_VARS.map((v) => [v.env, v.default] as const))('documents %s with its default', (env, def) => {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${env}\` |`));
    expect(row).toBeDefined();
    expect(row).toContain(def === null ? '| — |' : `| \`${def}\` |`);
  });
});
