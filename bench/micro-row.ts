import type { Bench } from 'tinybench';

/** One micro-benchmark result, as written to `bench/results/*.json` and compared across runs. */
export interface MicroRow {
  name: string;
  /** Operations per second (one op = one call of the measured function). */
  opsPerSec: number;
  /** Items per operation (events, changes, SKUs), so items/s = opsPerSec × itemsPerOp. */
  itemsPerOp: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  samples: number;
  /** Set when the task failed; the numbers are then zero. */
  error?: string;
}

/** Reads the finished tasks of a tinybench run into rows. */
export function rowsOf(bench: Bench, itemsPerOp: Record<string, number> = {}): MicroRow[] {
  return bench.tasks.map((task) => {
    const result = task.result;
    if (!result || result.state !== 'completed') {
      const error = result && 'error' in result ? String((result as { error?: unknown }).error) : 'did not complete';
      return { name: task.name, opsPerSec: 0, itemsPerOp: itemsPerOp[task.name] ?? 1, meanMs: 0, p50Ms: 0, p99Ms: 0, samples: 0, error };
    }
    return {
      name: task.name,
      opsPerSec: round(result.throughput.mean),
      itemsPerOp: itemsPerOp[task.name] ?? 1,
      meanMs: round(result.latency.mean, 4),
      p50Ms: round(result.latency.p50, 4),
      p99Ms: round(result.latency.p99, 4),
      samples: result.latency.samplesCount,
    };
  });
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
