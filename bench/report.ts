/**
 * The results table: one row per figure, with the ratio against its baseline (measured
 * in the same invocation) and the target from issue 8. Rendered as text for the
 * terminal and as Markdown for BENCHMARKS.md.
 */
import type { FanOutScenarioResult } from './scenarios/fan-out';
import type { ConcurrencyResult } from './scenarios/concurrency';
import type { ConnectionsResult } from './scenarios/connections';
import type { ModesResult } from './scenarios/modes';
import type { ComponentsResult } from './scenarios/components';

export interface Row {
  scenario: string;
  metric: string;
  runcast?: number | string;
  ws?: number | string;
  socketio?: number | string;
  ratio?: string;
  target?: string;
  /** Whether the target is met; undefined when the row has no target. */
  ok?: boolean;
}

export interface Results {
  fanOut?: FanOutScenarioResult | { error: string };
  concurrency?: ConcurrencyResult | { error: string };
  connections?: ConnectionsResult | { error: string };
  modes?: ModesResult | { error: string };
  components?: ComponentsResult | { error: string };
}

const failed = (r: unknown): r is { error: string } => typeof r === 'object' && r !== null && 'error' in r;
const x = (n: number) => (Number.isFinite(n) ? `${n}×` : 'n/a');
const atLeast = (n: number, t: number) => (Number.isFinite(n) ? n >= t : false);
const atMost = (n: number, t: number) => (Number.isFinite(n) ? n <= t : false);

export function buildRows(r: Results): Row[] {
  const rows: Row[] = [];
  const err = (scenario: string, e: { error: string }) => rows.push({ scenario, metric: `FAILED: ${e.error.split('\n')[0]!.slice(0, 90)} (see the JSON)` });

  if (r.fanOut) {
    if (failed(r.fanOut)) err('1 fan-out', r.fanOut);
    else
      for (const c of r.fanOut.configs) {
        const s = `1 fan-out, ${c.viewers} viewer${c.viewers > 1 ? 's' : ''} × ${c.events} events`;
        rows.push({ scenario: s, metric: 'delivered events/s', runcast: c.runcast.eventsPerSec, ws: c.ws.eventsPerSec, socketio: c.socketio.eventsPerSec, ratio: `${x(c.ratios.throughputVsWs)} ws`, target: '≥ 0.8× ws', ok: atLeast(c.ratios.throughputVsWs, 0.8) });
        rows.push({ scenario: s, metric: '', ratio: `${x(c.ratios.throughputVsSocketIo)} Socket.IO`, target: '≥ 2× Socket.IO', ok: atLeast(c.ratios.throughputVsSocketIo, 2) });
        rows.push({ scenario: s, metric: 'latency p50 (ms)', runcast: c.runcast.p50, ws: c.ws.p50, socketio: c.socketio.p50, ratio: `${x(c.ratios.p50VsWs)} ws` });
        rows.push({ scenario: s, metric: 'latency p99 (ms)', runcast: c.runcast.p99, ws: c.ws.p99, socketio: c.socketio.p99, ratio: `${x(c.ratios.p99VsWs)} ws`, target: '≤ 1.5× ws', ok: atMost(c.ratios.p99VsWs, 1.5) });
        rows.push({ scenario: s, metric: 'server CPU µs per delivered event', runcast: c.runcast.cpuUsPerDelivered, ws: c.ws.cpuUsPerDelivered, socketio: c.socketio.cpuUsPerDelivered, ratio: `${x(c.ratios.cpuPerEventVsWs)} ws, ${x(c.ratios.cpuPerEventVsSocketIo)} Socket.IO` });
        rows.push({ scenario: s, metric: `producer: first to last event time (ms; 1-viewer recording ${c.recordedSenderMs})`, runcast: c.runcast.senderMs, ws: c.ws.senderMs, socketio: c.socketio.senderMs });
        if (c.runcast.joinMs !== undefined) rows.push({ scenario: s, metric: 'viewers joining: subscribe until presence settles (ms)', runcast: c.runcast.joinMs });
        if (c.runcast.othersPct !== undefined)
          rows.push({ scenario: s, metric: 'machine busy % (of it, other processes %)', runcast: `${c.runcast.machineBusyPct} (${c.runcast.othersPct})`, ws: `${c.ws.machineBusyPct} (${c.ws.othersPct})`, socketio: `${c.socketio.machineBusyPct} (${c.socketio.othersPct})` });
        rows.push({ scenario: s, metric: 'client CPU µs per delivered event', runcast: c.runcast.clientCpuUsPerDelivered, ws: c.ws.clientCpuUsPerDelivered, socketio: c.socketio.clientCpuUsPerDelivered });
        const incomplete = (['runcast', 'ws', 'socketio'] as const).filter((k) => !c[k].complete);
        if (incomplete.length) rows.push({ scenario: s, metric: `INCOMPLETE delivery: ${incomplete.join(', ')}` });
      }
  }

  if (r.concurrency) {
    if (failed(r.concurrency)) err('2 concurrency', r.concurrency);
    else {
      for (const p of r.concurrency.points) {
        const s = `2 concurrency, ${p.runs} runs × 23 events`;
        rows.push({ scenario: s, metric: 'runs/s', runcast: p.runsPerSec });
        rows.push({ scenario: s, metric: 'events/s', runcast: p.eventsPerSec });
        rows.push({ scenario: s, metric: 'event latency p99 (ms)', runcast: p.latencyP99 });
        rows.push({ scenario: s, metric: 'server CPU ms per run', runcast: p.cpuMsPerRun });
        if (p.othersPct !== undefined) rows.push({ scenario: s, metric: 'machine busy % (of it, other processes %)', runcast: `${p.machineBusyPct} (${p.othersPct})` });
        if (p.completed !== p.runs || p.failures.length) rows.push({ scenario: s, metric: `INCOMPLETE: ${p.completed}/${p.runs} (${p.failures[0] ?? ''})` });
      }
      const g = r.concurrency.growth;
      if (g) {
        const s = `2 concurrency, growth ${g.runs}`;
        rows.push({ scenario: s, metric: 'wall time per run', ratio: x(g.wallPerRunRatio), target: '≈ 1 (linear), ≤ 1.25×', ok: atMost(g.wallPerRunRatio, 1.25) });
        rows.push({ scenario: s, metric: 'server CPU per run', ratio: x(g.cpuPerRunRatio), target: '≤ 1.25×', ok: atMost(g.cpuPerRunRatio, 1.25) });
        rows.push({ scenario: s, metric: 'event latency p99', ratio: x(g.latencyP99Ratio) });
      }
    }
  }

  if (r.connections) {
    if (failed(r.connections)) err('3 connections', r.connections);
    else {
      const c = r.connections;
      const s = `3 connections, ${c.connections} idle`;
      rows.push({ scenario: s, metric: 'RSS bytes per connection (slope N/2 → N)', runcast: c.runcast.rssBytesPerConn, ws: c.ws.rssBytesPerConn, ratio: `${x(c.ratios.rssPerConnVsWs)} ws`, target: '≤ 1.5× ws', ok: atMost(c.ratios.rssPerConnVsWs, 1.5) });
      rows.push({ scenario: s, metric: 'JS heap bytes per connection (slope N/2 → N)', runcast: c.runcast.heapBytesPerConn, ws: c.ws.heapBytesPerConn, ratio: `${x(c.ratios.heapPerConnVsWs)} ws`, target: '≤ 1.5× ws', ok: atMost(c.ratios.heapPerConnVsWs, 1.5) });
      rows.push({ scenario: s, metric: 'time to accept all (ms)', runcast: c.runcast.acceptMs, ws: c.ws.acceptMs, ratio: `${x(c.ratios.acceptTimeVsWs)} ws` });
      rows.push({ scenario: s, metric: 'server CPU µs per accepted connection', runcast: c.runcast.acceptCpuUsPerConn, ws: c.ws.acceptCpuUsPerConn, ratio: `${x(c.ratios.acceptCpuVsWs)} ws` });
      if (c.runcast.failed || c.ws.failed) rows.push({ scenario: s, metric: `FAILED handshakes: runcast ${c.runcast.failed}, ws ${c.ws.failed}` });
    }
  }

  if (r.modes) {
    if (failed(r.modes)) err('4 modes', r.modes);
    else {
      for (const p of r.modes.realtimeVsStandard) {
        const s = `4 modes, ${p.workflow} (${p.events} events)`;
        rows.push({ scenario: s, metric: 'run time median (ms): realtime / standard', runcast: `${p.realtimeMedianMs} / ${p.standardMedianMs}` });
        rows.push({ scenario: s, metric: 'streaming overhead (run time)', runcast: `${p.overheadPct} %`, target: '≤ 10 %', ok: atMost(p.overheadPct, 10) });
        rows.push({ scenario: s, metric: 'server CPU per run median (ms): realtime / standard', runcast: `${p.realtimeCpuMedianMs} / ${p.standardCpuMedianMs}` });
        rows.push({ scenario: s, metric: 'streaming overhead (server CPU)', runcast: `${p.cpuOverheadPct} %` });
      }
      const rm = r.modes.redisVsMemory;
      if ('skipped' in rm) rows.push({ scenario: '4 modes, Redis vs memory', metric: `skipped: ${rm.skipped}` });
      else {
        const s = '4 modes, Redis vs memory (order)';
        rows.push({ scenario: s, metric: 'run time median (ms): redis / memory', runcast: `${rm.redis.runMedianMs} / ${rm.memory.runMedianMs}`, ratio: x(rm.ratios.runTime) });
        rows.push({ scenario: s, metric: 'event latency p99 (ms): redis / memory', runcast: `${rm.redis.latencyP99} / ${rm.memory.latencyP99}`, ratio: x(rm.ratios.latencyP99) });
        rows.push({ scenario: s, metric: `runs/s, ${rm.concurrentRuns} at once: redis / memory`, runcast: `${rm.redis.runsPerSec} / ${rm.memory.runsPerSec}`, ratio: x(rm.ratios.throughput) });
      }
    }
  }

  if (r.components) {
    if (failed(r.components)) err('5 components', r.components);
    else {
      const red = r.components.redaction;
      const sb = r.components.sandbox;
      for (const k of ['1KiB', '16KiB'])
        rows.push({
          scenario: '5 components, redaction',
          metric: `${k} event: µs per KiB (redact / stringify)`,
          runcast: `${red[`redaction.${k}.redactUsPerKiB`]} / ${red[`redaction.${k}.stringifyUsPerKiB`]}`,
          ratio: `${x(red[`redaction.${k}.ratioToStringify`]!)} JSON.stringify`,
        });
      rows.push({ scenario: '5 components, sandbox', metric: 'logic call p50 (µs): pool / bare QuickJS', runcast: `${sb['pool_p50_us']} / ${sb['bare_p50_us']}`, ratio: `${x(sb['pool_vs_bare_p50_ratio']!)} bare` });
      rows.push({ scenario: '5 components, sandbox', metric: 'pool calls/s (16 in flight)', runcast: sb['pool_ops_per_s'] });
    }
  }
  return rows;
}

const COLS: { key: keyof Row; title: string }[] = [
  { key: 'scenario', title: 'scenario' },
  { key: 'metric', title: 'metric' },
  { key: 'runcast', title: 'runcast' },
  { key: 'ws', title: 'bare ws' },
  { key: 'socketio', title: 'Socket.IO' },
  { key: 'ratio', title: 'ratio' },
  { key: 'target', title: 'target' },
  { key: 'ok', title: 'met' },
];

function cell(row: Row, key: keyof Row, previous?: Row): string {
  if (key === 'scenario' && previous?.scenario === row.scenario) return '';
  const v = row[key];
  if (key === 'ok') return v === undefined ? '' : v ? 'yes' : 'NO';
  return v === undefined ? '' : String(v);
}

export function renderText(rows: Row[]): string {
  const cells = rows.map((r, i) => COLS.map((c) => cell(r, c.key, rows[i - 1])));
  const widths = COLS.map((c, j) => Math.max(c.title.length, ...cells.map((r) => r[j]!.length)));
  const line = (vals: string[]) => vals.map((v, j) => v.padEnd(widths[j]!)).join('  ').trimEnd();
  return [line(COLS.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function renderMarkdown(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [`| ${COLS.map((c) => c.title).join(' | ')} |`, `|${COLS.map(() => '---').join('|')}|`];
  rows.forEach((r, i) => out.push(`| ${COLS.map((c) => esc(cell(r, c.key, rows[i - 1]))).join(' | ')} |`));
  return out.join('\n');
}
