/** Summary statistics for latency samples, and the rounding used in the results file. */

export interface LatencySummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (`p` from 0 to 1). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** Percentiles of every sample in `parts` (milliseconds in, milliseconds out). */
export function summarise(parts: ArrayLike<number>[]): LatencySummary {
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Float64Array(n);
  let i = 0;
  let sum = 0;
  for (const p of parts)
    for (let j = 0; j < p.length; j++) {
      all[i++] = p[j]!;
      sum += p[j]!;
    }
  all.sort();
  return {
    samples: n,
    p50: round(percentile(all, 0.5)),
    p90: round(percentile(all, 0.9)),
    p99: round(percentile(all, 0.99)),
    max: round(n ? all[n - 1]! : NaN),
    mean: round(n ? sum / n : NaN),
  };
}

export function median(values: number[]): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Three significant decimals for small numbers, fewer for large ones. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  const a = Math.abs(n);
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** a / b, rounded; NaN when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return round(a / b);
}
