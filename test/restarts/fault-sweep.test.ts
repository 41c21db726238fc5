import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSweep, type SweepResult } from '../../bench/fault-sweep/run-sweep.ts';
import { KILL_POINTS } from '../../bench/fault-sweep/faults.ts';

// The short form of `stockrelay sweep`: it runs here, alone after the main suite, because it keeps
// two cores busy with hub processes, NATS servers of its own and a stream of orders.
describe('the crash-and-fault sweep, short form', () => {
  let dir = '';
  let result: SweepResult;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every invariant through kills at every named point, restarts, outages, a lost cluster node, failovers and late channel writes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stockrelay-sweep-test-'));
    const lines: string[] = [];
    result = await runSweep({ short: true, outDir: dir, log: (line) => lines.push(line) });
    const failed = result.runs.filter((run) => run.failures > 0).map((run) => `${run.fault}: ${run.invariants.samples.join('; ')}`);
    expect(failed).toEqual([]);
    expect(new Set(result.runs.filter((r) => r.group === 'kill -9').map((r) => r.fault))).toEqual(new Set(KILL_POINTS.map((p) => p.name)));
    expect(result.totals.kills).toBeGreaterThanOrEqual(KILL_POINTS.length);
    expect(result.totals.natsRestarts).toBe(1);
    expect(result.totals.databaseOutages).toBe(1);
    expect(result.totals.nodeLosses).toBe(1);
    // The pusher killed alone, and killed while the channel held its write.
    expect(result.totals.failovers).toBe(2);
    expect(result.runs.filter((r) => r.group === 'late').map((r) => r.fault).sort()).toEqual(['late-write-failover', 'late-writes']);
    expect(result.totals.orders).toBeGreaterThan(0);
    expect(result.pass).toBe(true);
  }, 900_000);
});
