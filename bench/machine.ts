/**
 * How busy the whole machine was during a measurement window, from /proc/stat (Linux;
 * elsewhere null), so that the CPU used by other processes — the noise on a shared
 * machine — can be reported next to the figures.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuSnapshot {
  at: number;
  /** Busy jiffies of all cores (everything but idle and iowait). */
  busy: number;
  self: number;
}

export function cpuSnapshot(): CpuSnapshot | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    const u = process.cpuUsage();
    return { at: Date.now(), busy: user + nice + system + irq + softirq + steal, self: (u.user + u.system) / 1000 };
  } catch {
    return null;
  }
}

export interface MachineLoad {
  /** Busy time of all cores over the window, as % of all cores' time. */
  machineBusyPct: number;
  /** The same, less the CPU of the bench's own processes (servers, load generators, orchestrator). */
  othersPct: number;
}

/**
 * Load between two snapshots; `benchCpuMs` is the CPU the bench's child processes used
 * in the window (the orchestrator's own is added here).
 */
export function machineLoad(a: CpuSnapshot | null, b: CpuSnapshot | null, benchCpuMs: number): MachineLoad | undefined {
  if (!a || !b || b.at <= a.at) return undefined;
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  const capacity = (b.at - a.at) * os.cpus().length;
  const busyMs = (b.busy - a.busy) * tick;
  const ours = benchCpuMs + (b.self - a.self);
  return {
    machineBusyPct: Math.round(Math.min(100, (busyMs / capacity) * 100)),
    othersPct: Math.round(Math.max(0, Math.min(100, ((busyMs - ours) / capacity) * 100))),
  };
}
