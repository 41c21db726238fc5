import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * CPU jiffies used so far by every process whose command name is one of `names` (Linux `/proc`),
 * keyed by name: the servers the hub leans on (nats-server, postgres) run on the same box, and their
 * share separates "the stack was busy" from "something else was". A process that exits between two
 * readings drops out of the sum, so the figure is a lower bound.
 */
export function processCpuTimes(names: readonly string[]): Map<string, number> | null {
  const totals = new Map<string, number>(names.map((n) => [n, 0]));
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      if (!totals.has(comm)) continue;
      const fields = stat.slice(close + 2).split(' ');
      // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
      totals.set(comm, totals.get(comm)! + Number(fields[11]) + Number(fields[12]));
    } catch {
      // the process ended while we looked
    }
  }
  return totals;
}

/** Jiffies per second, for turning the readings above into CPU seconds. */
export const CLOCK_TICKS = 100;
