/**
 * Start the real runcast server on port 0 for a test, with a temporary DATA_DIR and
 * WORKFLOWS_DIR, a known AUTH_JWT_SECRET, and log lines captured in memory.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config/config';
import { startServer, type RunningServer } from '../../src/main';
import { signToken } from '../../src/auth';
import type { WorkflowDefinition } from '../../src/protocol/workflow';

export const TEST_JWT_SECRET = 'test-secret-for-runcast-tests-0123456789';
export const ALL_SCOPES = ['runs:execute', 'runs:watch', 'runs:cancel'];

export interface TestServer extends RunningServer {
  httpUrl: string;
  wsUrl: string;
  dataDir: string;
  workflowsDir: string;
  /** Every log line written so far. */
  logs(): string;
  token(opts?: { sub?: string; workspace?: string; scopes?: string[]; ttl?: string }): Promise<string>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  workflows?: WorkflowDefinition[];
  dataDir?: string;
  secrets?: Record<string, string>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const root = mkdtempSync(path.join(tmpdir(), 'runcast-test-'));
  const dataDir = options.dataDir ?? path.join(root, 'data');
  const workflowsDir = path.join(root, 'workflows');
  mkdirSync(workflowsDir, { recursive: true });
  for (const wf of options.workflows ?? []) writeFileSync(path.join(workflowsDir, `${wf.id}.json`), JSON.stringify(wf));
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    DATA_DIR: dataDir,
    WORKFLOWS_DIR: workflowsDir,
    LOG_LEVEL: 'debug',
    SHUTDOWN_GRACE_MS: '2000',
    ...options.env,
  };
  if (options.secrets) {
    const file = path.join(root, 'secrets.json');
    writeFileSync(file, JSON.stringify(options.secrets));
    env.SECRETS_FILE = file;
  }
  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (c: Buffer) => (logText += c.toString()));
  const server = await startServer(loadConfig(env), { logStream });
  return Object.assign(server, {
    httpUrl: server.url,
    wsUrl: server.url.replace(/^http/, 'ws') + '/v1/ws',
    dataDir,
    workflowsDir,
    logs: () => logText,
    token: (o: { sub?: string; workspace?: string; scopes?: string[]; ttl?: string } = {}) =>
      signToken({ secret: TEST_JWT_SECRET, sub: o.sub ?? 'alice', workspace: o.workspace ?? 'acme', scopes: o.scopes ?? ALL_SCOPES, ttl: o.ttl ?? '1h' }),
  });
}
