import pg from 'pg';
import { Bench } from 'tinybench';
import type { InventoryEvent } from '../core/events/event-types.ts';
import { openDatabase } from '../core/ledger/database.ts';
import { Ledger } from '../core/ledger/ledger.ts';
import { migrateToLatest } from '../core/ledger/migrate.ts';
import { rowsOf, type MicroRow } from './micro-row.ts';

const PG_ADMIN_URL = process.env.STOCKRELAY_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The ledger transaction on the real Postgres, in a database created for the run and dropped after:
 * one order per transaction (the naive handler) against a group of orders in one transaction (the
 * applier's way), so the gain of grouping per SKU batch is a number, not a claim.
 */
export async function ledgerMicro(timeMs = 2_000): Promise<MicroRow[]> {
  const name = `sr_bench_ledger_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolSize: 4 });
  try {
    await migrateToLatest(database.db);
    // Batches go through the handle the hub applies them through.
    const ledger = new Ledger(database.db, { writer: database.writer });
    const skus = Array.from({ length: 200 }, (_, i) => `MB-${i}`);
    await ledger.applyBatch([{ id: 'seed', type: 'stock.set', channel: 'bench', occurredAt: new Date().toISOString(), lines: skus.map((sku) => ({ sku, quantity: 1_000_000_000 })) }]);
    let seq = 0;
    const order = (sku: string): InventoryEvent => ({ id: `o-${++seq}`, type: 'order.confirmed', channel: 'bench', occurredAt: new Date().toISOString(), lines: [{ sku, qty: 1 }] });
    const GROUP = 100;
    const HOT = 20;
    const bench = new Bench({ time: timeMs, warmupTime: 200 });
    bench.add('ledger: 1 order per transaction', async () => {
      await ledger.applyBatch([order(skus[seq % skus.length]!)]);
    });
    bench.add(`ledger: ${GROUP} orders per transaction, ${HOT} hot SKUs`, async () => {
      const events: InventoryEvent[] = [];
      for (let i = 0; i < GROUP; i++) events.push(order(skus[i % HOT]!));
      await ledger.applyBatch(events);
    });
    bench.add(`ledger: ${GROUP} orders per transaction, 200 SKUs`, async () => {
      const events: InventoryEvent[] = [];
      for (let i = 0; i < GROUP; i++) events.push(order(skus[(seq + i * 7) % skus.length]!));
      await ledger.applyBatch(events);
    });
    await bench.run();
    return rowsOf(bench, { [`ledger: ${GROUP} orders per transaction, ${HOT} hot SKUs`]: GROUP, [`ledger: ${GROUP} orders per transaction, 200 SKUs`]: GROUP });
  } finally {
    await database.close();
    const cleanup = new pg.Client({ connectionString: PG_ADMIN_URL });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await cleanup.end();
  }
}
