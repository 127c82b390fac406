/**
 * The deployment files, checked without Docker (it cannot run here): docker-compose.yml
 * has Redis, two gateways and two workers wired to it, with variables runcast knows;
 * the Dockerfile builds as documented and runs as a non-root user; every path it copies
 * is in the build context.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARS } from '../../../src/config/config';

const ROOT = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
// js-yaml is already in the tree (via @asyncapi/parser); typed here to what is used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const compose = yaml.load(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const runcastServices = ['gateway-1', 'gateway-2', 'worker-1', 'worker-2'];

describe('docker-compose.yml', () => {
  it('has Redis 7, two gateways and two workers', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway-1', 'gateway-2', 'redis', 'worker-1', 'worker-2']);
    expect(compose.services.redis!.image).toMatch(/^redis:7(\.|$|-)/);
  });

  it.each(runcastServices)('%s runs the image on Redis, with the secret from the environment and the shared workflows', (name) => {
    const s = compose.services[name]!;
    expect(s.build).toBe('.');
    expect(s.environment).toMatchObject({ BUS: 'redis', REDIS_URL: 'redis://redis:6379', WORKFLOWS_DIR: '/app/workflows', DATA_DIR: '/data' });
    expect(s.environment!.AUTH_JWT_SECRET).toMatch(/^\$\{AUTH_JWT_SECRET:\?/);
    expect(s.volumes).toEqual(expect.arrayContaining(['./workflows:/app/workflows:ro', 'runcast-data:/data']));
    expect(s.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
  });

  it.each([
    ['gateway-1', '8081:8080'],
    ['gateway-2', '8082:8080'],
  ])('%s serves on %s without executing queued runs', (name, port) => {
    const s = compose.services[name]!;
    expect(s.command).toBeUndefined(); // the image's CMD: `serve`
    expect(s.environment).toMatchObject({ EXECUTE: 'false', HOST: '0.0.0.0', PORT: '8080' });
    expect(s.ports).toEqual([port]);
    expect(s.healthcheck!.test.join(' ')).toContain('/readyz');
  });

  it.each(['worker-1', 'worker-2'])('%s runs `runcast worker`', (name) => {
    expect(compose.services[name]!.command).toEqual(['node', 'bin/runcast.js', 'worker']);
    expect(compose.services[name]!.ports).toBeUndefined();
  });

  it('sets only variables that runcast reads', () => {
    const known = new Set(CONFIG_VARS.map((v) => v.env));
    for (const name of runcastServices)
      for (const key of Object.keys(compose.services[name]!.environment!)) expect({ key, known: known.has(key) || key.startsWith('SECRET_') }).toEqual({ key, known: true });
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#'));
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('builds on node:20-bookworm-slim with npm ci and runs `serve` as a non-root user', () => {
    expect(lines.filter((l) => l.startsWith('FROM ')).every((l) => /^FROM node:20-bookworm-slim( AS \w+)?$/.test(l))).toBe(true);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(finalStage).toMatch(/\nUSER (?!root\b|0\b)\S+/);
    expect(finalStage).toMatch(/HOST=0\.0\.0\.0/);
    expect(lines.filter((l) => l.startsWith('CMD '))).toEqual(['CMD ["node", "bin/runcast.js", "serve"]']);
  });

  it('copies only paths that exist and that .dockerignore keeps', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const sources = lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.replace(/^COPY\s+/, '').split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect({ src, exists: existsSync(path.join(ROOT, src)) }).toEqual({ src, exists: true });
      expect({ src, ignored: ignored.includes(src) || ignored.includes(src.split('/')[0]!) }).toEqual({ src, ignored: false });
    }
    for (const local of ['node_modules', 'dist', '.git']) expect(ignored).toContain(local);
  });
});
