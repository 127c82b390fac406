/**
 * Summarise a V8 CPU profile (`.cpuprofile`, as written by `node --cpu-prof` or the
 * inspector's Profiler): self time per function, and per origin (runcast's code, `ws`,
 * Node's internals, GC, idle). Run alone: `node dist/bench/profile.js <file.cpuprofile>`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  fn: string;
  where: string;
  origin: string;
  selfMs: number;
  /** Share of the busy (non-idle) samples. */
  selfPct: number;
}

export interface ProfileSummary {
  durationMs: number;
  /** Estimated busy time: non-idle samples × the median sampling interval. */
  busyMs: number;
  samples: number;
  /** runcast functions by inclusive time: the share of busy samples with the function on the stack. */
  runcastInclusive: { fn: string; where: string; pct: number }[];
  byOrigin: Record<string, { ms: number; pct: number }>;
  top: ProfileEntry[];
}

function originOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)' || fn === '(root)') return 'program (native, unattributed)';
  if (url.includes('node_modules')) return originFromModule(url);
  if (url.includes('/dist/src/')) return 'runcast';
  if (url.includes('/dist/bench/')) return 'bench harness';
  if (url.startsWith('node:') || url === '') return 'node internals (incl. syscalls)';
  return 'other';
}

function originFromModule(url: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return m ? m[1]! : 'node_modules';
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/dist/');
  if (i >= 0) return url.slice(i + 6);
  const j = url.lastIndexOf('node_modules/');
  if (j >= 0) return url.slice(j + 13);
  return url;
}

/** Self time per function, aggregated by name and location; the top `limit` of the busy time. */
export function summariseProfile(file: string, limit = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Self time by sample count × the median sampling interval: on a loaded machine a
  // descheduled process shows long gaps between samples, which must not be charged to
  // whatever function happened to be on the stack.
  const self = new Map<number, number>();
  for (const id of p.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const deltas = p.timeDeltas.slice(1).sort((a, b) => a - b);
  const interval = deltas.length ? deltas[deltas.length >> 1]! : 1000;
  for (const [id, n] of self) self.set(id, n * interval);
  const agg = new Map<string, ProfileEntry>();
  const origins = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName || '(anonymous)';
    const origin = originOf(n.callFrame.url, fn);
    total += us;
    if (origin === 'idle') {
      idle += us;
      continue;
    }
    origins.set(origin, (origins.get(origin) ?? 0) + us);
    const where = n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = agg.get(key) ?? { fn, where, origin, selfMs: 0, selfPct: 0 };
    e.selfMs += us / 1000;
    agg.set(key, e);
  }
  const busy = total - idle;
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Inclusive: each busy sample counts once for every distinct runcast function on its stack.
  const inclusive = new Map<string, number>();
  let busySamples = 0;
  for (const id of p.samples) {
    const leaf = byId.get(id)!;
    if (originOf(leaf.callFrame.url, leaf.callFrame.functionName) === 'idle') continue;
    busySamples++;
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const n = byId.get(x)!;
      if (originOf(n.callFrame.url, n.callFrame.functionName) !== 'runcast') continue;
      const key = `${n.callFrame.functionName || '(anonymous)'}@${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
      if (!seen.has(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + 1);
      }
    }
  }
  const runcastInclusive = [...inclusive.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, n]) => ({ fn: k.slice(0, k.lastIndexOf('@')), where: k.slice(k.lastIndexOf('@') + 1), pct: Math.round((n / Math.max(1, busySamples)) * 1000) / 10 }));
  const pct = (us: number) => Math.round((us / Math.max(1, busy)) * 1000) / 10;
  const top = [...agg.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, limit)
    .map((e) => ({ ...e, selfMs: Math.round(e.selfMs * 10) / 10, selfPct: pct(e.selfMs * 1000) }));
  const byOrigin = Object.fromEntries(
    [...origins.entries()].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, { ms: Math.round(us / 100) / 10, pct: pct(us) }]),
  );
  return { durationMs: Math.round((p.endTime - p.startTime) / 1000), busyMs: Math.round(busy / 1000), samples: p.samples.length, runcastInclusive, byOrigin, top };
}

/** The summary as text lines. */
export function formatProfile(s: ProfileSummary): string {
  const lines = [`profile: ${s.durationMs} ms, ${s.samples} samples, busy ≈ ${s.busyMs} ms`, 'self time by origin:'];
  for (const [k, v] of Object.entries(s.byOrigin)) lines.push(`  ${k.padEnd(34)} ${String(v.ms).padStart(9)} ms ${String(v.pct).padStart(6)} %`);
  lines.push('top functions by self time:');
  for (const e of s.top) lines.push(`  ${String(e.selfPct).padStart(5)} %  ${e.fn}  ${e.where}  [${e.origin}]`);
  lines.push('runcast functions by inclusive time (share of busy samples with the function on the stack):');
  for (const e of s.runcastInclusive) lines.push(`  ${String(e.pct).padStart(5)} %  ${e.fn}  ${e.where}`);
  return lines.join('\n');
}

if (require.main === module) {
  const f = process.argv[2];
  if (!f) {
    console.error('usage: node dist/bench/profile.js <file.cpuprofile>');
    process.exitCode = 2;
  } else console.log(formatProfile(summariseProfile(f, 25)));
}
