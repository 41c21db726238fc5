import { readFileSync } from 'node:fs';

/** Busy and total jiffies of the whole machine since boot (Linux `/proc/stat`), or null elsewhere. */
export function machineCpuTimes(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: idle and iowait are the only not-busy ones.
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Share of the machine that was busy between two readings, 0..1. */
export function busyShare(from: { busy: number; total: number } | null, to: { busy: number; total: number } | null): number | null {
  if (!from || !to || to.total <= from.total) return null;
  return (to.busy - from.busy) / (to.total - from.total);
}
