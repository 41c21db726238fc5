import pg from 'pg';
import type { SweepChannel, Workload } from './workload.ts';

/** Every way a run can break the hub's promises, counted; all zero is a pass. */
export interface InvariantReport {
  /** Acknowledged orders or restocks that never reached the ledger. */
  lost: number;
  /** (event, SKU) pairs applied more than once. */
  doubled: number;
  /** Events whose audit rows and oversell records do not add up to what the event asked. */
  unbalanced: number;
  /** SKUs whose audit history does not chain (versions skipped, before ≠ previous after, ≠ the stock row). */
  broken: number;
  /** Audit rows below zero. */
  negative: number;
  /** (channel, SKU) pairs whose simulator does not show the ledger's quantity after the run settled. */
  unconverged: number;
  /**
   * Channel writes of this run that cannot be placed in ledger version order (an older quantity landed after a
   * newer one) in a run whose channel never held writes: the hub itself sent something stale.
   */
  staleWrites: number;
  /**
   * The same, in a run whose channel held writes past the hub's push timeout and applied them later: the
   * channel put them there, and the run passes only if every one was repaired (channel converged, never
   * recorded as confirmed).
   */
  lateWritesRepaired: number;
  /** (channel, SKU) pairs whose recorded confirmation says the channel shows what it does not. */
  falseConfirmations: number;
  /** Valid, signed orders the hub refused with a 4xx. */
  refused: number;
  /** The first few failures, for the report. */
  samples: string[];
}

export const invariantTotal = (r: InvariantReport): number =>
  r.lost + r.doubled + r.unbalanced + r.broken + r.negative + r.unconverged + r.staleWrites + r.falseConfirmations + r.refused;

/**
 * Checks the ledger, its audit trail and every channel against what the sweep sent. Run it only once
 * the hubs have settled (nothing pending in the stream, every channel quiet).
 */
/** Where the previous run's write check ended, per channel and SKU: each run checks only its own writes. */
export type WriteCursors = Map<string, { writes: number; version: number }>;

export async function checkInvariants(
  databaseUrl: string,
  workload: Workload,
  channels: readonly SweepChannel[],
  skus: readonly string[],
  options: { cursors?: WriteCursors; lateWritesExpected?: boolean } = {},
): Promise<InvariantReport> {
  const cursors = options.cursors ?? new Map();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const report: InvariantReport = { lost: 0, doubled: 0, unbalanced: 0, broken: 0, negative: 0, unconverged: 0, staleWrites: 0, lateWritesRepaired: 0, falseConfirmations: 0, refused: workload.refusals.length, samples: [] };
  const sample = (text: string): void => {
    if (report.samples.length < 12) report.samples.push(text);
  };
  for (const refusal of workload.refusals.slice(0, 3)) sample(`refused: ${refusal}`);
  try {
    const processed = new Set((await client.query<{ event_id: string }>('select event_id from processed_event')).rows.map((r) => r.event_id));
    const audit = (
      await client.query<{ event_id: string; sku: string; before: number; after: number; version: string }>('select event_id, sku, before, after, version from audit order by sku, version')
    ).rows.map((r) => ({ ...r, version: Number(r.version) }));
    const oversells = (await client.query<{ event_id: string; sku: string; shortfall: number }>('select event_id, sku, shortfall from oversell')).rows;
    const stock = new Map(
      (await client.query<{ sku: string; available: number; version: string }>('select sku, available, version from stock')).rows.map((r) => [r.sku, { available: r.available, version: Number(r.version) }]),
    );
    const states = (await client.query<{ channel_id: string; sku: string; pushed_version: string; pushed_quantity: number | null }>('select channel_id, sku, pushed_version, pushed_quantity from channel_state')).rows;

    // Exactly once: every acknowledged event applied, none applied twice.
    for (const sent of [...workload.orders, ...workload.restocks]) {
      if (sent.acked && !processed.has(sent.eventId)) {
        report.lost += 1;
        sample(`lost: ${sent.eventId}`);
      }
    }
    const byEventSku = new Map<string, number>();
    for (const row of audit) byEventSku.set(`${row.event_id}|${row.sku}`, (byEventSku.get(`${row.event_id}|${row.sku}`) ?? 0) + 1);
    for (const [key, count] of byEventSku) {
      if (count > 1) {
        report.doubled += 1;
        sample(`doubled: ${key} ×${count}`);
      }
    }

    // Conservation: each order took exactly its quantity (from stock, or recorded as oversold); each restock added its delta.
    const taken = new Map<string, number>();
    for (const row of audit) taken.set(row.event_id, (taken.get(row.event_id) ?? 0) + (row.before - row.after));
    const short = new Map<string, number>();
    for (const row of oversells) short.set(row.event_id, (short.get(row.event_id) ?? 0) + row.shortfall);
    for (const order of workload.orders) {
      if (!processed.has(order.eventId)) continue;
      const asked = order.lines.reduce((sum, line) => sum + line.qty, 0);
      const accounted = (taken.get(order.eventId) ?? 0) + (short.get(order.eventId) ?? 0);
      if (accounted !== asked) {
        report.unbalanced += 1;
        sample(`unbalanced: ${order.eventId} asked ${asked}, accounted ${accounted}`);
      }
    }
    for (const restock of workload.restocks) {
      if (!processed.has(restock.eventId)) continue;
      const added = -(taken.get(restock.eventId) ?? 0);
      if (added !== restock.delta) {
        report.unbalanced += 1;
        sample(`unbalanced: ${restock.eventId} added ${added}, expected ${restock.delta}`);
      }
    }

    // The audit trail of every SKU chains version by version to the stock row, never below zero.
    const history = new Map<string, number[]>();
    for (const sku of skus) {
      const rows = audit.filter((row) => row.sku === sku);
      const values: number[] = [];
      let ok = true;
      rows.forEach((row, i) => {
        if (row.after < 0) report.negative += 1;
        if (row.version !== i + 1 || (i > 0 && row.before !== rows[i - 1]!.after)) ok = false;
        values.push(row.after);
      });
      const row = stock.get(sku);
      if (!row || row.version !== rows.length || (rows.length > 0 && row.available !== rows[rows.length - 1]!.after)) ok = false;
      if (!ok) {
        report.broken += 1;
        sample(`broken audit chain: ${sku}`);
      }
      history.set(sku, values);
    }

    for (const channel of channels) {
      for (const sku of skus) {
        const expected = stock.get(sku)?.available;
        const shown = channel.simulator.shown(sku);
        if (shown !== expected) {
          report.unconverged += 1;
          sample(`unconverged: ${channel.id}/${sku} shows ${shown}, ledger ${expected}`);
        }
        // Every write of this run must fit the ledger's history in version order (rules here: show all),
        // starting from where the previous, settled run left the channel.
        const values = history.get(sku) ?? [];
        const key = `${channel.id}|${sku}`;
        const cursor = cursors.get(key) ?? { writes: 0, version: 0 };
        const writes = channel.simulator.writes(sku);
        let at = cursor.version;
        for (const [time, quantity] of writes.slice(cursor.writes)) {
          let next = at;
          while (next < values.length && values[next] !== quantity) next += 1;
          if (next < values.length) {
            at = next;
            continue;
          }
          if (options.lateWritesExpected) report.lateWritesRepaired += 1;
          else {
            report.staleWrites += 1;
            sample(`stale write: ${channel.id}/${sku} = ${quantity} at ${new Date(time).toISOString()}`);
          }
        }
        // Settled: the channel shows the newest version, and the next run's writes start from there.
        cursors.set(key, { writes: writes.length, version: Math.max(0, values.length - 1) });
        const state = states.find((s) => s.channel_id === channel.id && s.sku === sku);
        if (state && Number(state.pushed_version) === stock.get(sku)?.version && state.pushed_quantity !== null && state.pushed_quantity !== shown) {
          report.falseConfirmations += 1;
          sample(`false confirmation: ${channel.id}/${sku} recorded ${state.pushed_quantity}, shows ${shown}`);
        }
      }
    }
  } finally {
    await client.end();
  }
  return report;
}
