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
  busyMs: number;
  byOrigin: Record<string, { ms: number; pct: number }>;
  top: ProfileEntry[];
}

function originOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)' || fn === '(root)') return 'program (native, unattributed)';
  if (url.includes('/dist/src/') || url.includes('/src/')) {
    if (url.includes('node_modules')) return originFromModule(url);
    return 'runcast';
  }
  if (url.includes('node_modules')) return originFromModule(url);
  if (url.startsWith('node:') || url === '' ) return 'node internals';
  if (url.includes('/dist/bench/')) return 'bench harness';
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
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the sample's own duration is the next delta.
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
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
  const pct = (us: number) => Math.round((us / Math.max(1, busy)) * 1000) / 10;
  const top = [...agg.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, limit)
    .map((e) => ({ ...e, selfMs: Math.round(e.selfMs * 10) / 10, selfPct: pct(e.selfMs * 1000) }));
  const byOrigin = Object.fromEntries(
    [...origins.entries()].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, { ms: Math.round(us / 100) / 10, pct: pct(us) }]),
  );
  return { durationMs: Math.round((p.endTime - p.startTime) / 1000), busyMs: Math.round(busy / 1000), byOrigin, top };
}

/** The summary as text lines. */
export function formatProfile(s: ProfileSummary): string {
  const lines = [`profile: ${s.durationMs} ms, busy ${s.busyMs} ms`, 'self time by origin:'];
  for (const [k, v] of Object.entries(s.byOrigin)) lines.push(`  ${k.padEnd(34)} ${String(v.ms).padStart(9)} ms ${String(v.pct).padStart(6)} %`);
  lines.push('top functions by self time:');
  for (const e of s.top) lines.push(`  ${String(e.selfPct).padStart(5)} %  ${e.fn}  ${e.where}  [${e.origin}]`);
  return lines.join('\n');
}

if (require.main === module) {
  const f = process.argv[2];
  if (!f) {
    console.error('usage: node dist/bench/profile.js <file.cpuprofile>');
    process.exitCode = 2;
  } else console.log(formatProfile(summariseProfile(f, 25)));
}
