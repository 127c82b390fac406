/**
 * `runcast run` and `runcast watch` as subprocesses (`node bin/runcast.js …`, the
 * compiled dist/) against a live test server: output, exit statuses and `--json`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createClient, type ClientOptions } from '../../src/client';
import type { EventFrame } from '../../src/protocol/events';
import type { WorkflowDefinition } from '../../src/protocol/workflow';
import { startTestServer, type TestServer } from '../helpers/server';
import { ensureBuilt, ROOT } from '../helpers/processes';
import { taggedUser } from '../fixtures/workflows';

const BIN = path.join(ROOT, 'bin/runcast.js');


const failingWorkflow: WorkflowDefinition = {
  id: 'failing',
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'GET', path: '/fail' } },
    { id: 'boom', type: 'logic', config: { code: 'throw new Error("kaput")' } },
    { id: 'respond', type: 'api.response', config: { status: 200 } },
  ],
  edges: [
    { from: 'start', to: 'boom' },
    { from: 'boom', to: 'respond' },
  ],
};

const invalidWorkflow = {
  id: 'broken',
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'GET', path: '/b' } },
    { id: 'x', type: 'no.such.type' },
  ],
  edges: [
    { from: 'start', to: 'x' },
    { from: 'x', to: 'nowhere' },
  ],
};

const input = { method: 'POST', path: '/users', body: { email: '  Ada@Example.COM ', tags: ['a', 'b'] } };

let server: TestServer;
let dir: string;
let token: string;
const file = (name: string) => path.join(dir, name);

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', RUNCAST_URL: server.wsUrl, RUNCAST_TOKEN: token, ...env },
        timeout: 30_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  // `npm test` builds first; this rebuilds only when dist/ is missing or stale.
  ensureBuilt();
  server = await startTestServer({ workflows: [{ ...taggedUser, id: 'deployed-user', workspace: 'acme' }] });
  token = await server.token();
  dir = mkdtempSync(path.join(tmpdir(), 'runcast-cli-'));
  writeFileSync(file('user.json'), JSON.stringify(taggedUser));
  writeFileSync(file('failing.json'), JSON.stringify(failingWorkflow));
  writeFileSync(file('invalid.json'), JSON.stringify(invalidWorkflow));
  writeFileSync(file('input.json'), JSON.stringify(input));
}, 180_000);

afterAll(async () => {
  await server?.close();
});

describe('runcast run', () => {
  it('follows a succeeding run: a line per node start and end, the response, exit 0', async () => {
    const r = await cli(['run', 'user.json', '--input', 'input.json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^▶ Create user \(create-user\) · 5 nodes · started by alice$/);
    for (const [id, type] of [['start', 'api.start'], ['clean', 'logic'], ['each', 'loop'], ['respond', 'api.response']]) {
      expect(lines).toContainEqual(`… ${id} (${type}) started`);
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^✓ ${id} \\(${type.replace('.', '\\.')}\\)( .+)? [\\d.]+ m?s$`)));
    }
    // Loop iterations, node logs, the loop summary.
    expect(lines).toContainEqual(expect.stringMatching(/^✓ tag \(logic\) \[item 0\] [\d.]+ ms$/));
    expect(lines).toContainEqual(expect.stringMatching(/^✓ tag \(logic\) \[item 1\] [\d.]+ ms$/));
    expect(lines).toContainEqual(expect.stringMatching(/^✓ each \(loop\) 2 iterations [\d.]+ m?s$/));
    expect(lines).toContainEqual('  │ clean: cleaning   Ada@Example.COM ');
    expect(r.stdout).toContain('✓ run completed in ');
    expect(r.stdout).toContain('  response 201\n');
    expect(r.stdout).toContain('"email": "ada@example.com"');
    expect(r.stdout).not.toMatch(/\x1b\[/); // no colour or spinner outside a terminal
  });

  it('runs a deployed workflow by id, with inline --input JSON', async () => {
    const r = await cli(['run', 'deployed-user', '--input', JSON.stringify({ body: { email: 'X@Y.z', tags: [] } })]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"email": "x@y.z"');
  });

  it('calls out the failing node and its error, lists skipped nodes, exit 1', async () => {
    const r = await cli(['run', 'failing.json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ boom \(logic\) code_error: .*kaput.* [\d.]+ ms$/m);
    expect(r.stdout).toMatch(/^✗ run failed at boom \(logic\): code_error: .*kaput/m);
    expect(r.stdout).toContain('  skipped: respond\n');
  });

  it('prints every problem of an invalid workflow with its path, exit 2', async () => {
    const r = await cli(['run', 'invalid.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/invalid workflow/);
    expect(r.stderr).toMatch(/^ {2}\/nodes\/1\/type: .*no\.such\.type/m);
    expect(r.stderr).toMatch(/^ {2}\/edges\/1\/to: .*nowhere/m);
  });

  it('exits 2 on a bad token, a missing token, an unknown workflow, a missing file or bad --input', async () => {
    const [badToken, noToken, unknown, missing, badInput] = await Promise.all([
      cli(['run', 'user.json', '--token', 'not-a-token']),
      cli(['run', 'user.json'], { RUNCAST_TOKEN: '' }),
      cli(['run', 'no-such-workflow']),
      cli(['run', 'missing.json']),
      cli(['run', 'user.json', '--input', '{not json']),
    ]);
    expect(badToken).toMatchObject({ code: 2, stdout: '' });
    expect(badToken.stderr).toMatch(/authentication failed \(4401\)/);
    expect(noToken).toMatchObject({ code: 2 });
    expect(noToken.stderr).toMatch(/no token/);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toMatch(/not_found: .*no-such-workflow/);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toMatch(/cannot read the workflow file/);
    expect(badInput).toMatchObject({ code: 2 });
    expect(badInput.stderr).toMatch(/--input is not valid JSON/);
  });

  it('exits 2 when nothing listens at --url', async () => {
    const r = await cli(['run', 'user.json', '--url', 'ws://127.0.0.1:1/v1/ws']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot connect/);
  });

  it('--json prints each event frame as one line, unchanged: seqs 1..n', async () => {
    const r = await cli(['run', 'user.json', '--input', 'input.json', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const frames = lines.map((l) => JSON.parse(l) as EventFrame);
    expect(frames.every((f) => f.type === 'event')).toBe(true);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
    expect(frames[frames.length - 1]!.event.kind).toBe('run.completed');
    // Byte for byte what the server keeps (and sent).
    const res = await fetch(`${server.httpUrl}/v1/runs/${frames[0]!.runId}/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(await res.text()).toBe(lines.map((l) => l + '\n').join(''));
  });

  it('continues past a breakpoint automatically when stdin is not a terminal, and says so', async () => {
    const r = await cli(['run', 'user.json', '--input', 'input.json', '--breakpoint', 'clean', '--breakpoint', 'respond']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('⏸ paused before clean (logic)');
    expect(r.stdout).toContain('⏸ paused before respond (api.response)');
    expect(r.stdout).toContain('stdin is not a terminal: continuing past clean automatically');
    expect(r.stdout).toContain('✓ run completed');
  });
});

describe('runcast watch', () => {
  let runId: string;
  let frames: EventFrame[];

  beforeAll(async () => {
    const client = createClient({ url: server.wsUrl, token, WebSocket: WebSocket as unknown as ClientOptions['WebSocket'] });
    try {
      const handle = await client.run({ workflow: failingWorkflow });
      frames = [];
      for await (const f of handle) frames.push(f);
      runId = handle.runId;
    } finally {
      client.close();
    }
  });

  it('replays a finished run and exits with its outcome', async () => {
    const r = await cli(['watch', runId]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ run failed at boom \(logic\)/m);
  });

  it('--from-seq N --json prints only the frames after N', async () => {
    const r = await cli(['watch', runId, '--from-seq', '2', '--json']);
    expect(r.code).toBe(1);
    const seqs = r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as EventFrame).seq);
    expect(seqs).toEqual(frames.slice(2).map((f) => f.seq));
  });

  it('exits 2 for an unknown run and for a bad --from-seq', async () => {
    const [unknown, bad] = await Promise.all([cli(['watch', 'no-such-run']), cli(['watch', runId, '--from-seq', '-1'])]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/not_found/);
    expect(bad.code).toBe(2);
  });
});
