/**
 * The dev console in real headless Chromium against the real server: a succeeding
 * run, a failing one, a breakpoint and continue, two pages watching one run, a
 * truncated value loaded in full, and a dropped connection resumed. Screenshots of
 * each state go to tests/artifacts/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { WorkflowDefinition } from '../../src/protocol/workflow';
import { startTestServer, type TestServer } from '../helpers/server';
import { taggedUser } from '../fixtures/workflows';

const ARTIFACTS = path.resolve(__dirname, '../artifacts');
const WAIT = { timeout: 10_000 };

const userInput = { method: 'POST', path: '/users', body: { email: '  Ada@Example.COM ', tags: ['a', 'b'] } };

const failingWorkflow: WorkflowDefinition = {
  id: 'failing',
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'GET', path: '/fail' } },
    { id: 'check', type: 'logic', config: { code: 'return { ok: true }' } },
    { id: 'boom', type: 'logic', config: { code: 'throw new Error("kaput")' } },
    { id: 'store', type: 'delay', config: { ms: 1 } },
    { id: 'respond', type: 'api.response', config: { status: 200 } },
  ],
  edges: [
    { from: 'start', to: 'check' },
    { from: 'check', to: 'boom' },
    { from: 'boom', to: 'store' },
    { from: 'store', to: 'respond' },
  ],
};

const bigWorkflow: WorkflowDefinition = {
  id: 'big',
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'GET', path: '/big' } },
    { id: 'make', type: 'logic', config: { code: 'return { text: "x".repeat(3000) + "END" }' } },
    { id: 'respond', type: 'api.response', config: { status: 200, body: { size: 3003 } } },
  ],
  edges: [
    { from: 'start', to: 'make' },
    { from: 'make', to: 'respond' },
  ],
};

const slowWorkflow: WorkflowDefinition = {
  id: 'slow',
  nodes: [
    { id: 'start', type: 'api.start', config: { method: 'GET', path: '/slow' } },
    ...[1, 2, 3, 4, 5, 6].map((i) => ({ id: `wait${i}`, type: 'delay', config: { ms: 80 } })),
    { id: 'respond', type: 'api.response', config: { status: 204 } },
  ],
  edges: ['start', 'wait1', 'wait2', 'wait3', 'wait4', 'wait5', 'wait6', 'respond'].slice(1).map((to, i, all) => ({ from: i === 0 ? 'start' : all[i - 1]!, to })),
};

let server: TestServer;
let browser: Browser;
let token: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function openConsole(hash: Record<string, string> = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const fragment = new URLSearchParams({ token, ...hash }).toString();
  await page.goto(`${server.httpUrl}/console#${fragment}`);
  await page.waitForSelector('#conn-status[data-status="ready"]', WAIT);
  return page;
}

async function startDefinition(page: Page, workflow: WorkflowDefinition, input: unknown, breakpoints: string[] = []): Promise<string> {
  await page.check('#mode-definition');
  await page.fill('#definition', JSON.stringify(workflow, null, 2));
  await page.fill('#input', JSON.stringify(input));
  await page.fill('#breakpoints', breakpoints.join(', '));
  await page.click('#start');
  await page.waitForSelector('#run-status[data-status]:not([data-status="idle"])', WAIT);
  const runId = (await page.textContent('#current-run-id'))?.trim() ?? '';
  expect(runId).not.toBe('');
  return runId;
}

const statuses = (page: Page) =>
  page.$$eval('#nodes .node', (els) => els.map((el) => [(el as HTMLElement).dataset.nodeId, (el as HTMLElement).dataset.status]));

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: false });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startTestServer({
    env: { MAX_FIELD_BYTES: '1024' },
    workflows: [{ ...slowWorkflow, id: 'deployed-slow', workspace: 'acme' }],
  });
  token = await server.token();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 30_000);

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('dev console', () => {
  it('is one self-contained page', async () => {
    const res = await fetch(`${server.httpUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);
    expect(html).not.toMatch(/\brequire\(|cov_/);
  });

  it('shows a succeeding run: every node succeeded, in execution order, with the response', async () => {
    const page = await openConsole();
    const runId = await startDefinition(page, taggedUser, userInput);
    await page.waitForSelector('#run-status[data-status="succeeded"]', WAIT);
    expect(await statuses(page)).toEqual([
      ['start', 'succeeded'],
      ['clean', 'succeeded'],
      ['each', 'succeeded'],
      ['tag', 'succeeded'],
      ['respond', 'succeeded'],
    ]);
    expect(await page.textContent('[data-node-id="tag"] .node-meta')).toContain('×2');
    expect(await page.getAttribute('#response', 'data-status')).toBe('201');
    expect(await page.textContent('#response')).toContain('"ada@example.com"');
    expect(await page.getAttribute('#viewers', 'data-viewers')).toBe('1');
    // The timeline lists every event once; the fragment names the run, not the token.
    const seqs = await page.$$eval('#timeline li', (els) => els.map((el) => Number((el as HTMLElement).dataset.seq)));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(new URL(page.url()).hash).toBe(`#run=${runId}`);
    // A node's input, resolved config, output and logs.
    await page.click('[data-node-id="clean"] .node-details > summary');
    const details = await page.textContent('[data-node-id="clean"] .node-body');
    expect(details).toContain('input');
    expect(details).toContain('config (resolved)');
    expect(details).toContain('"ada@example.com"');
    expect(details).toContain('cleaning   Ada@Example.COM');
    await shot(page, 'console-succeeded.png');
  });

  it('shows a failing run: the failed node marked with its error, downstream nodes skipped', async () => {
    const page = await openConsole();
    await startDefinition(page, failingWorkflow, { method: 'GET', path: '/fail' });
    await page.waitForSelector('[data-node-id="boom"][data-status="failed"]', WAIT);
    await page.waitForSelector('#run-status[data-status="failed"]', WAIT);
    expect(await statuses(page)).toEqual([
      ['start', 'succeeded'],
      ['check', 'succeeded'],
      ['boom', 'failed'],
      ['store', 'skipped'],
      ['respond', 'skipped'],
    ]);
    expect(await page.textContent('[data-node-id="boom"] .node-error')).toMatch(/code_error: .*kaput/);
    expect(await page.textContent('#failure')).toMatch(/boom \(logic\) failed.*kaput/s);
    expect(await page.isEnabled('#cancel')).toBe(false);
    await shot(page, 'console-failed.png');
  });

  it('pauses at a breakpoint, then continues to the end', async () => {
    const page = await openConsole();
    await startDefinition(page, taggedUser, userInput, ['respond']);
    await page.waitForSelector('[data-node-id="respond"][data-status="paused"]', WAIT);
    await page.waitForSelector('#run-status[data-status="paused"]', WAIT);
    expect(await page.getAttribute('[data-node-id="each"]', 'data-status')).toBe('succeeded');
    expect(await page.isEnabled('#continue')).toBe(true);
    await shot(page, 'console-paused.png');
    await page.click('#continue');
    await page.waitForSelector('[data-node-id="respond"][data-status="succeeded"]', WAIT);
    await page.waitForSelector('#run-status[data-status="succeeded"]', WAIT);
    await shot(page, 'console-continued.png');
  });

  it('steps node by node from a breakpoint', async () => {
    const page = await openConsole();
    await startDefinition(page, failingWorkflow, {}, ['check']);
    await page.waitForSelector('[data-node-id="check"][data-status="paused"]', WAIT);
    await page.click('#step');
    await page.waitForSelector('[data-node-id="boom"][data-status="paused"]', WAIT);
    expect(await page.getAttribute('[data-node-id="check"]', 'data-status')).toBe('succeeded');
    await page.click('#cancel');
    await page.waitForSelector('#run-status[data-status="cancelled"]', WAIT);
    expect(await statuses(page)).toEqual([
      ['start', 'succeeded'],
      ['check', 'succeeded'],
      ['boom', 'skipped'],
      ['store', 'skipped'],
      ['respond', 'skipped'],
    ]);
  });

  it('two pages watching one run show the same statuses and two viewers', async () => {
    const a = await openConsole();
    const runId = await startDefinition(a, taggedUser, userInput, ['each']);
    await a.waitForSelector('[data-node-id="each"][data-status="paused"]', WAIT);
    const b = await openConsole({ run: runId });
    await b.waitForSelector('[data-node-id="each"][data-status="paused"]', WAIT);
    await a.waitForSelector('#viewers[data-viewers="2"]', WAIT);
    await b.waitForSelector('#viewers[data-viewers="2"]', WAIT);
    expect(await statuses(b)).toEqual(await statuses(a));
    expect(await b.textContent('#current-run-id')).toBe(runId);
    await shot(a, 'console-two-viewers-a.png');
    await shot(b, 'console-two-viewers-b.png');
    // Either viewer may continue; both see the end.
    await b.click('#continue');
    await a.waitForSelector('#run-status[data-status="succeeded"]', WAIT);
    await b.waitForSelector('#run-status[data-status="succeeded"]', WAIT);
    expect(await statuses(b)).toEqual(await statuses(a));
  });

  it('loads a truncated value in full on demand', async () => {
    const page = await openConsole();
    await startDefinition(page, bigWorkflow, {});
    await page.waitForSelector('#run-status[data-status="succeeded"]', WAIT);
    await page.click('[data-node-id="make"] .node-details > summary');
    const button = page.locator('[data-node-id="make"] .j-truncated button.load-full').first();
    await button.waitFor(WAIT);
    await button.click();
    const full = page.locator('[data-node-id="make"] .j-full[data-loaded="true"]').first();
    await full.waitFor(WAIT);
    const text = (await full.textContent()) ?? '';
    expect(text).toContain('x'.repeat(3000) + 'END');
    await shot(page, 'console-truncated-loaded.png');
  });

  it('lists every problem of an invalid definition', async () => {
    const page = await openConsole();
    await page.check('#mode-definition');
    await page.fill('#definition', JSON.stringify({ id: 'bad', nodes: [{ id: 'start', type: 'api.start', config: { method: 'GET', path: '/' } }, { id: 'x', type: 'nope' }], edges: [{ from: 'start', to: 'x' }] }));
    await page.click('#start');
    await page.waitForSelector('#form-error:not([hidden]) .problems li', WAIT);
    const text = await page.textContent('#form-error');
    expect(text).toContain('workflow_invalid');
    expect(text).toContain('/nodes/1/type');
  });

  it('resumes after the connection drops: every seq once, the run followed to its end', async () => {
    const page = await openConsole();
    await page.check('#mode-deployed');
    await page.fill('#workflow-id', 'deployed-slow');
    await page.fill('#input', '{}');
    await page.click('#start');
    await page.waitForSelector('[data-node-id="wait1"][data-status="succeeded"]', WAIT);
    await page.evaluate(() => (window as unknown as { runcastConsole: { client: { _debugDropConnection(): void } } }).runcastConsole.client._debugDropConnection());
    await page.waitForSelector('#run-status[data-status="succeeded"]', WAIT);
    const seqs = await page.$$eval('#timeline li', (els) => els.map((el) => Number((el as HTMLElement).dataset.seq)));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(seqs.length).toBe(1 + 8 * 2 + 1);
    const reconnects = await page.evaluate(() => (window as unknown as { runcastConsole: { client: { stats: { reconnects: number } } } }).runcastConsole.client.stats.reconnects);
    expect(reconnects).toBe(1);
    expect((await statuses(page)).every(([, s]) => s === 'succeeded')).toBe(true);
  });
});
