import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type LedgerDatabase } from '../../core/ledger/database.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { migrateToLatest } from '../../core/ledger/migrate.ts';
import { freshDatabase, type FreshDatabase } from '../support/servers.ts';
import { EventFactory } from '../ledger-support/ledger-backends.ts';

/**
 * A writer plans most batches from the rows its own commits left, without reading them back. Another
 * writer (a second hub, an operator's count) changes rows in between: every spec below makes the first
 * writer's memory wrong and checks that the ledger comes out as if it had read.
 */
describe('a writer that plans from the rows it remembers', () => {
  let fresh: FreshDatabase;
  let handle: LedgerDatabase;
  let other: LedgerDatabase;
  let hub: Ledger;
  let rival: Ledger;

  beforeAll(async () => {
    fresh = await freshDatabase('ledger_remembered');
    handle = await openDatabase({ url: fresh.url });
    other = await openDatabase({ url: fresh.url });
    await migrateToLatest(handle.db);
    hub = new Ledger(handle.db, { writer: handle.writer });
    rival = new Ledger(other.db, { writer: other.writer });
  });
  afterAll(async () => {
    await other.close();
    await handle.close();
    await fresh.drop();
  });

  it('sees a restock by another writer of a SKU it remembers at 0: the order takes the units, no oversell', async () => {
    const f = new EventFactory();
    const sku = f.sku('restocked');
    await hub.applyBatch([f.set({ [sku]: 0 })]);
    await rival.applyBatch([f.set({ [sku]: 5 })]);
    const [outcome] = await hub.applyBatch([f.order({ [sku]: 2 })]);
    expect(outcome!.oversells).toEqual([]);
    expect(await hub.getLevel(sku)).toMatchObject({ available: 3, version: 3 });
  });

  it('sees a sale by another writer of a SKU it remembers: both sales count', async () => {
    const f = new EventFactory();
    const sku = f.sku('shared');
    await hub.applyBatch([f.set({ [sku]: 10 })]);
    await rival.applyBatch([f.order({ [sku]: 4 })]);
    await hub.applyBatch([f.order({ [sku]: 1 })]);
    expect(await hub.getLevel(sku)).toMatchObject({ available: 5, version: 3 });
  });

  it('finds an event it already applied a duplicate when it comes again', async () => {
    const f = new EventFactory();
    const sku = f.sku('again');
    await hub.applyBatch([f.set({ [sku]: 10 })]);
    const order = f.order({ [sku]: 3 });
    await hub.applyBatch([order]);
    const [outcome] = await hub.applyBatch([order]);
    expect(outcome!.status).toBe('duplicate');
    expect(await hub.getLevel(sku)).toMatchObject({ available: 7, version: 2 });
  });

  it('finds an event another writer applied a duplicate', async () => {
    const f = new EventFactory();
    const sku = f.sku('theirs');
    await hub.applyBatch([f.set({ [sku]: 10 })]);
    const order = f.order({ [sku]: 3 });
    await rival.applyBatch([order]);
    const [outcome] = await hub.applyBatch([order]);
    expect(outcome!.status).toBe('duplicate');
    expect(await hub.getLevel(sku)).toMatchObject({ available: 7, version: 2 });
  });

  it('adds to an order line another writer created instead of taking it as new', async () => {
    const f = new EventFactory();
    const sku = f.sku('line');
    await hub.applyBatch([f.set({ [sku]: 10 })]);
    const first = f.confirmOrder('o1', { [sku]: 2 });
    await rival.applyBatch([first]);
    // A second confirmation of the same order line (another event id): the line exists, the writer never saw it.
    await hub.applyBatch([{ ...first, id: `${first.id}:again` }]);
    const cancel = f.cancelOrder('o1', { [sku]: 4 });
    await hub.applyBatch([cancel]);
    expect(await hub.getLevel(sku)).toMatchObject({ available: 10 });
    const [line] = await hub.getOrderLines('shop-a', `${f.prefix}-o1`);
    expect(line).toMatchObject({ requested: 4, taken: 4, cancelled: 4, restored: 4 });
  });
});
