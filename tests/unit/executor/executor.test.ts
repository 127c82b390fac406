/**
 * The executor core on the real node types: event order and invariants, failures and
 * skipped nodes, loops, breakpoints and steps, cancel and node time limits.
 */
import { executeRun, Cancellation, type RunControl } from '../../../src/executor/executor';
import { validateWorkflow, type CompiledWorkflow } from '../../../src/executor/graph';
import { normaliseRequest } from '../../../src/executor/node-type';
import type { RunEvent } from '../../../src/protocol/events';
import type { WorkflowDefinition } from '../../../src/protocol/workflow';
import { realRegistry } from '../../helpers/registry';
import { createUser, getUser, linear, looping, slow } from '../../fixtures/workflows';
import { deferred } from '../../helpers/waiter';

const reg = realRegistry({ nodeTimeoutMs: 120_000 });
afterAll(() => reg.close());

async function compile(wf: WorkflowDefinition): Promise<CompiledWorkflow> {
  const r = await validateWorkflow(wf, reg.registry);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.workflow;
}

function controller() {
  const abort = new AbortController();
  const waiters: ((v: { step: boolean }) => void)[] = [];
  const control: RunControl = { signal: abort.signal, waitForContinue: () => new Promise((r) => waiters.push(r)) };
  return {
    control,
    cancel: (by: string) => abort.abort(new Cancellation(by)),
    resume: (step = false) => waiters.splice(0).forEach((w) => w({ step })),
  };
}

async function run(wf: WorkflowDefinition, opts: { input?: object; breakpoints?: string[]; onEvent?: (e: RunEvent, all: RunEvent[]) => void; ctl?: ReturnType<typeof controller>; nodeTimeoutMs?: number; secrets?: Record<string, string> } = {}) {
  const events: RunEvent[] = [];
  const ctl = opts.ctl ?? controller();
  const added: string[] = [];
  const outcome = await executeRun({
    workflow: await compile(wf),
    request: normaliseRequest(opts.input as never),
    breakpoints: new Set(opts.breakpoints ?? []),
    startedBy: 'tester',
    registry: reg.registry,
    secrets: { get: (n) => opts.secrets?.[n], names: () => Object.keys(opts.secrets ?? {}) },
    emit: (e) => {
      events.push(e);
      opts.onEvent?.(e, events);
    },
    addSecret: (v) => added.push(v),
    control: ctl.control,
    nodeTimeoutMs: opts.nodeTimeoutMs ?? 2000,
  });
  return { events, outcome, added };
}

const kinds = (events: RunEvent[]) => events.map((e) => ('nodeId' in e ? `${e.kind}:${e.nodeId}` : e.kind));

describe('executeRun', () => {
  it('emits run.started, each node started then completed, and run.completed last', async () => {
    const { events, outcome } = await run(createUser, { input: { body: { email: 'A@B.io' } } });
    expect(outcome.status).toBe('succeeded');
    expect(kinds(events)).toEqual([
      'run.started',
      'node.started:start', 'node.completed:start',
      'node.started:params', 'node.completed:params',
      'node.started:clean', 'node.completed:clean',
      'node.started:insert', 'node.completed:insert',
      'node.started:respond', 'node.completed:respond',
      'run.completed',
    ]);
    const started = events[0] as Extract<RunEvent, { kind: 'run.started' }>;
    expect(started.nodes.map((n) => n.id)).toEqual(['start', 'params', 'clean', 'insert', 'respond']);
    const insertStart = events.find((e) => e.kind === 'node.started' && e.nodeId === 'insert') as Extract<RunEvent, { kind: 'node.started' }>;
    expect(insertStart.config).toMatchObject({ data: { email: 'a@b.io' } });
    expect(insertStart.input).toEqual({ email: 'a@b.io' });
  });

  it('takes the branch a condition chooses and says which', async () => {
    const { events, outcome } = await run(getUser, { input: { path: '/users/none', params: { id: 'none' } } });
    expect(outcome).toMatchObject({ status: 'succeeded', response: { status: 404 } });
    const cond = events.find((e) => e.kind === 'node.completed' && e.nodeId === 'found') as Extract<RunEvent, { kind: 'node.completed' }>;
    expect(cond.branch).toBe('false');
    expect(kinds(events)).not.toContain('node.started:ok');
  });

  it('stops at the first failure and names the skipped nodes', async () => {
    const { events, outcome } = await run(createUser, { input: { body: {} } });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'validation_failed', nodeId: 'params' } });
    const last = events.at(-1) as Extract<RunEvent, { kind: 'run.failed' }>;
    expect(last.kind).toBe('run.failed');
    expect(last.failedNodeId).toBe('params');
    expect(last.skippedNodeIds).toEqual(['clean', 'insert', 'respond']);
    const failedAt = events.findIndex((e) => e.kind === 'node.failed');
    expect(events.slice(failedAt + 1).map((e) => e.kind)).toEqual(['run.failed']);
  });

  it('labels loop iterations and collects the body\'s last output per item', async () => {
    const { events, outcome } = await run(looping(3));
    expect(outcome).toMatchObject({ status: 'succeeded', response: { body: { last: 2 } } });
    const body = events.filter((e) => e.kind === 'node.completed' && e.nodeId === 'body') as Extract<RunEvent, { kind: 'node.completed' }>[];
    expect(body.map((e) => e.iteration)).toEqual([[0], [1], [2]]);
    const loopDone = events.find((e) => e.kind === 'node.completed' && e.nodeId === 'each') as Extract<RunEvent, { kind: 'node.completed' }>;
    expect((loopDone.output as { items: { i: number }[] }).items.map((x) => x.i)).toEqual([0, 1, 2]);
    expect(loopDone.iteration).toBeUndefined();
  });

  it('fails a loop over more items than maxIterations with loop_error', async () => {
    const wf = looping(5);
    wf.nodes[2]!.config = { items: '{{ nodes.items }}', maxIterations: 4 };
    const { outcome } = await run(wf);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'loop_error', nodeId: 'each' } });
  });

  it('pauses at a breakpoint until continued, and pauses again after a step', async () => {
    const ctl = controller();
    const { events, outcome } = await run(slow(1), {
      breakpoints: ['wait'],
      ctl,
      onEvent: (e) => {
        if (e.kind === 'node.paused' && e.nodeId === 'wait') queueMicrotask(() => ctl.resume(true));
        if (e.kind === 'node.paused' && e.nodeId === 'last') queueMicrotask(() => ctl.resume(false));
      },
    });
    expect(outcome.status).toBe('succeeded');
    expect(kinds(events)).toEqual([
      'run.started',
      'node.started:start', 'node.completed:start',
      'node.started:first', 'node.completed:first',
      'node.paused:wait', 'node.started:wait', 'node.completed:wait',
      'node.paused:last', 'node.started:last', 'node.completed:last',
      'node.started:respond', 'node.completed:respond',
      'run.completed',
    ]);
  });

  it('cancels a running node for real and names what did not run', async () => {
    const ctl = controller();
    const waiting = deferred();
    const done = run(slow(60_000), { ctl, nodeTimeoutMs: 120_000, onEvent: (e) => e.kind === 'node.started' && e.nodeId === 'wait' && waiting.resolve() });
    await waiting.promise;
    ctl.cancel('bob');
    const { events, outcome } = await done;
    expect(outcome).toEqual({ status: 'cancelled', by: 'bob' });
    expect(events.at(-1)).toMatchObject({ kind: 'run.cancelled', cancelledBy: 'bob', skippedNodeIds: ['last', 'respond'] });
  });

  it('cancels a run paused at a breakpoint', async () => {
    const ctl = controller();
    const { events, outcome } = await run(slow(1), { ctl, breakpoints: ['first'], onEvent: (e) => e.kind === 'node.paused' && queueMicrotask(() => ctl.cancel('carol')) });
    expect(outcome.status).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ kind: 'run.cancelled', skippedNodeIds: ['first', 'wait', 'last', 'respond'] });
  });

  it('fails a node that overruns NODE_TIMEOUT_MS with timeout', async () => {
    const wf = linear('t', [{ id: 'wait', type: 'delay', config: { ms: 50 } }]);
    const { outcome, events } = await run(wf, { nodeTimeoutMs: 20 });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'timeout', nodeId: 'wait' } });
    expect(events.find((e) => e.kind === 'node.failed')).toMatchObject({ nodeId: 'wait', error: { code: 'timeout' } });
  });

  it('fails a template that names a missing value with template_error', async () => {
    const wf = linear('t', [{ id: 'a', type: 'logic', config: { code: 'return { x: 1 }' } }], { body: '{{ nodes.a.y.z }}' });
    const { outcome } = await run(wf);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'template_error', nodeId: 'respond' } });
  });

  it('hands a node only the secrets its config asks for, and adds generated credentials', async () => {
    const wf = linear('s', [
      { id: 'a', type: 'logic', config: { code: 'return { seen: Object.keys(secrets) }' } },
      { id: 'b', type: 'logic', config: { code: 'return { seen: Object.keys(secrets), len: secrets.API_KEY.length }' } },
      { id: 'gen', type: 'jwt.generate', config: { payload: { sub: 'x' }, expiresIn: '1m' } },
    ], { body: { a: '{{ nodes.a.seen }}', b: '{{ nodes.b.seen }}' } });
    const { outcome, added } = await run(wf, { secrets: { API_KEY: 'key-1234567', OTHER: 'other-123456', JWT_SECRET: 'jwt-secret-123456' } });
    expect(outcome).toMatchObject({ status: 'succeeded', response: { body: { a: [], b: ['API_KEY'] } } });
    expect(added).toHaveLength(1);
    expect(added[0]!.split('.')).toHaveLength(3);
  });
});
