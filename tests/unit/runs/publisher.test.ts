/**
 * The run publisher, the one egress choke point: redaction, truncation at
 * MAX_FIELD_BYTES (exactly at the limit is kept), seq, status and expiry.
 */
import { createRunPublisher } from '../../../src/runs/publisher';
import { createMemoryBus } from '../../../src/channels/memory';
import { createRedactor } from '../../../src/redaction';
import type { Bus } from '../../../src/channels/types';

const SECRET = 'hunter2-very-secret';
let bus: Bus;
beforeEach(async () => {
  bus = createMemoryBus();
  await bus.createRun({ runId: 'r', workflowId: 'w', workspace: 'ws', startedBy: 'u', status: 'running', startedAt: new Date(0).toISOString(), endedAt: null, lastSeq: 0 });
});
afterEach(() => bus.close());

function publisher(maxFieldBytes = 1024, extra: Partial<Parameters<typeof createRunPublisher>[0]> = {}) {
  const errors: unknown[] = [];
  const redactor = createRedactor({ secrets: [SECRET] });
  const p = createRunPublisher({ runId: 'r', bus, redactor: () => redactor, maxFieldBytes, historyTtlMs: 60_000, onError: (e) => errors.push(e), clock: () => new Date(1000), ...extra });
  return { p, errors };
}

/** A string value whose JSON is exactly `bytes` bytes long. */
const valueOfBytes = (bytes: number) => 'x'.repeat(bytes - 2);

describe('createRunPublisher', () => {
  it('stamps seq from 1 and stores the exact wire text', async () => {
    const { p } = publisher();
    p.emit({ kind: 'node.log', nodeId: 'a', level: 'info', message: 'one' });
    p.emit({ kind: 'node.log', nodeId: 'a', level: 'info', message: 'two' });
    await p.flushed();
    const frames = await bus.history('r', 0);
    expect(frames.map((f) => f.seq)).toEqual([1, 2]);
    expect(JSON.parse(frames[0]!.text)).toEqual({ type: 'event', runId: 'r', seq: 1, time: new Date(1000).toISOString(), event: { kind: 'node.log', nodeId: 'a', level: 'info', message: 'one' } });
  });

  it('redacts before storing', async () => {
    const { p } = publisher();
    p.emit({ kind: 'node.completed', nodeId: 'a', output: { note: `key ${SECRET}`, password: 'x' }, durationMs: 1 });
    await p.flushed();
    const [f] = await bus.history('r', 0);
    expect(f!.text).not.toContain(SECRET);
    expect(JSON.parse(f!.text).event.output).toEqual({ note: 'key [REDACTED]', password: '[REDACTED]' });
  });

  it('keeps a value of exactly MAX_FIELD_BYTES and truncates one byte more, keeping the whole under its ref', async () => {
    const { p } = publisher(1024);
    p.emit({ kind: 'node.completed', nodeId: 'a', output: valueOfBytes(1024), durationMs: 1 });
    p.emit({ kind: 'node.completed', nodeId: 'b', output: valueOfBytes(1025), durationMs: 1 });
    await p.flushed();
    const [kept, cut] = (await bus.history('r', 0)).map((f) => JSON.parse(f.text).event.output);
    expect(kept).toBe(valueOfBytes(1024));
    expect(cut).toEqual({ $truncated: true, bytes: 1025, preview: JSON.stringify(valueOfBytes(1025)).slice(0, 1024), ref: expect.any(String) });
    expect(await bus.getValue('r', cut.ref)).toBe(JSON.stringify(valueOfBytes(1025)));
  });

  it('truncates node.started input and config and run.completed body', async () => {
    const { p } = publisher(1024);
    const big = { s: `${SECRET} ${'y'.repeat(2000)}` };
    p.emit({ kind: 'node.started', nodeId: 'a', nodeType: 'logic', input: big, config: big });
    p.emit({ kind: 'run.completed', response: { status: 200, headers: {}, body: big }, durationMs: 3 });
    await p.flushed();
    const [started, done] = (await bus.history('r', 0)).map((f) => JSON.parse(f.text).event);
    expect(started.input.$truncated).toBe(true);
    expect(started.config.$truncated).toBe(true);
    expect(done.response.body.$truncated).toBe(true);
    // The kept whole value is the redacted one.
    expect(await bus.getValue('r', started.input.ref)).not.toContain(SECRET);
  });

  it('tracks pause and end in the run meta', async () => {
    const { p } = publisher();
    p.emit({ kind: 'node.paused', nodeId: 'a' });
    await p.flushed();
    expect((await bus.getRun('r'))!.status).toBe('paused');
    p.emit({ kind: 'node.started', nodeId: 'a', nodeType: 'delay', input: null, config: {} });
    await p.flushed();
    expect((await bus.getRun('r'))!.status).toBe('running');
    p.emit({ kind: 'run.failed', failedNodeId: 'a', error: { code: 'timeout', message: 't' }, skippedNodeIds: [], durationMs: 5 });
    await p.flushed();
    expect(await bus.getRun('r')).toMatchObject({ status: 'failed', endedAt: new Date(1000).toISOString(), lastSeq: 3 });
  });

  it('continues after afterSeq and calls onLimit once at maxEvents', async () => {
    let limits = 0;
    await bus.append({ runId: 'r', seq: 1, kind: 'run.started', text: '{}' });
    const { p } = publisher(1024, { afterSeq: 1, maxEvents: 3, onLimit: () => void limits++ });
    for (let i = 0; i < 4; i++) p.emit({ kind: 'node.log', nodeId: 'a', level: 'info', message: String(i) });
    await p.flushed();
    expect((await bus.history('r', 0)).map((f) => f.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(limits).toBe(1);
  });
});
