import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type LedgerDatabase } from '../../core/ledger/database.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { LEDGER_MIGRATIONS, migrateToLatest } from '../../core/ledger/migrate.ts';
import { freshDatabase, type FreshDatabase } from '../support/servers.ts';

const BEFORE_LIFECYCLE = Object.fromEntries(Object.entries(LEDGER_MIGRATIONS).filter(([name]) => name < '0004'));

describe.each(['postgres', 'pglite'] as const)('order lines kept before migration 0004, on %s', (backend) => {
  let handle: LedgerDatabase | undefined;
  let fresh: FreshDatabase | undefined;
  afterEach(async () => {
    await handle?.close();
    await fresh?.drop();
  });

  it('keep their meaning: the uncovered oversold part is still counted first, nothing is pending', async () => {
    fresh = backend === 'postgres' ? await freshDatabase('orderline') : undefined;
    handle = await openDatabase(fresh ? { url: fresh.url } : {});
    await migrateToLatest(handle.db, BEFORE_LIFECYCLE);
    // Stock 50, an order of 80 (30 oversold), 10 of it cancelled: all 10 counted against the oversold part.
    await sql`INSERT INTO stock (sku, available, version) VALUES ('A', 0, 2)`.execute(handle.db);
    await sql`INSERT INTO order_line (channel, order_id, sku, requested, taken, cancelled, restored, version) VALUES ('shop', '1', 'A', 80, 50, 10, 0, 2)`.execute(handle.db);
    await migrateToLatest(handle.db);
    const ledger = new Ledger(handle.db);
    expect(await ledger.getOrderLines('shop', '1')).toMatchObject([{ untaken: 20, pending: 0, netted: 0 }]);
    await ledger.applyBatch([{ id: 'shop:order:1:cancelled:2', type: 'order.cancelled', channel: 'shop', orderId: '1', occurredAt: new Date().toISOString(), lines: [{ sku: 'A', qty: 70 }] }]);
    expect(await ledger.getLevel('A')).toMatchObject({ available: 50 });
  });
});
