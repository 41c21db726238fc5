import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainChannelQuantity, type WhyReads } from '../../core/features/admin/why.ts';
import { DatabaseChannelState } from '../../core/ledger/database-channel-state.ts';
import { InventoryView } from '../../core/ledger/inventory-view.ts';
import { LedgerHistory } from '../../core/ledger/ledger-history.ts';
import { LedgerWriter } from '../../core/ledger/ledger-writer.ts';
import { EventFactory, pgliteBackend, postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';

const market = { id: 'market', connector: 'test', rules: { share: 0.5, reserve: 1 } };

// `why` answers from the two read models alone: these tests build them on a bare database, no hub.
describe.each([postgresBackend(), pgliteBackend()])('why from the read models on $name', (backend: LedgerBackend) => {
  let writer: LedgerWriter;
  let channelState: DatabaseChannelState;
  let reads: WhyReads;
  beforeAll(async () => {
    await backend.setUp();
    const { db } = backend.primary();
    writer = new LedgerWriter(db);
    channelState = new DatabaseChannelState(db);
    reads = { inventory: new InventoryView(db), history: new LedgerHistory(db) };
  });
  afterAll(() => backend.tearDown());

  async function confirm(sku: string, version: number, quantity: number): Promise<void> {
    await channelState.recordConfirmed(market.id, [{ sku, version, quantity, confirmedAt: new Date() }]);
  }

  it('knows nothing of a SKU neither the ledger nor the channel has', async () => {
    const f = new EventFactory();
    expect(await explainChannelQuantity(reads, market, f.sku('none'))).toBeUndefined();
  });

  it('calls a SKU the channel never confirmed never-pushed, with every change pending', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await writer.applyBatch([f.set({ [sku]: 10 }), f.order({ [sku]: 2 })]);
    const report = await explainChannelQuantity(reads, market, sku);
    expect(report).toMatchObject({ state: 'never-pushed', ledger: { available: 8, version: 2 }, confirmed: { version: 0, quantity: null }, chain: [] });
    expect(report?.pending.map((s) => [s.version, s.after, s.shownAfter])).toEqual([
      [1, 10, 4],
      [2, 8, 3],
    ]);
  });

  it('derives the confirmed quantity from the ledger version it reflects, and lists what came after as pending', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await writer.applyBatch([f.set({ [sku]: 20 }), f.order({ [sku]: 4 }), f.order({ [sku]: 6 })]);
    await confirm(sku, 2, 7);
    const report = await explainChannelQuantity(reads, market, sku);
    expect(report).toMatchObject({
      state: 'pending',
      confirmed: { version: 2, quantity: 7 },
      derivation: { available: 16, expected: 7, matches: true, formula: 'max(0, floor(16 × 0.5) − 1) = 7' },
    });
    expect(report?.chain.map((s) => s.version)).toEqual([1, 2]);
    expect(report?.pending.map((s) => [s.version, s.after])).toEqual([[3, 10]]);
  });

  it('says in sync once the channel confirmed the current version, and flags a quantity the rules do not give', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await writer.applyBatch([f.set({ [sku]: 9 })]);
    await confirm(sku, 1, 5);
    const report = await explainChannelQuantity(reads, market, sku);
    expect(report).toMatchObject({ state: 'in-sync', derivation: { available: 9, expected: 3, matches: false }, pending: [] });
  });

  it('shows the units an order oversold on its step', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await writer.applyBatch([f.set({ [sku]: 2 }), f.order({ [sku]: 5 })]);
    const report = await explainChannelQuantity(reads, market, sku);
    expect(report?.pending.map((s) => [s.eventType, s.after, s.oversold])).toEqual([
      ['stock.set', 2, 0],
      ['order.confirmed', 0, 3],
    ]);
  });

  it('keeps the newest steps of a long chain and says it left earlier ones out', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await writer.applyBatch([f.set({ [sku]: 100 }), ...Array.from({ length: 5 }, () => f.order({ [sku]: 1 }))]);
    await confirm(sku, 6, 46);
    const report = await explainChannelQuantity(reads, market, sku, { limit: 3 });
    expect(report?.chain.map((s) => s.version)).toEqual([4, 5, 6]);
    expect(report).toMatchObject({ chainTruncated: true, pendingTruncated: false, state: 'in-sync' });
  });

  it('tells dead-lettered, not-listed and unverified SKUs apart from merely pending ones', async () => {
    const f = new EventFactory();
    const [dead, unlisted, unverified] = [f.sku('dead'), f.sku('unlisted'), f.sku('unverified')];
    await writer.applyBatch([f.set({ [dead]: 5, [unlisted]: 5, [unverified]: 5 }), f.order({ [dead]: 1, [unlisted]: 1, [unverified]: 1 })]);
    for (const sku of [dead, unlisted, unverified]) await confirm(sku, 1, 2);
    await channelState.recordDeadLettered(market.id, [{ sku: dead, error: 'HTTP 500' }]);
    await channelState.recordNotListed(market.id, [{ sku: unlisted, reason: 'no such listing' }], 'config-1');
    await channelState.recordWriting(market.id, [{ sku: unverified, until: new Date(Date.now() + 3_600_000) }]);
    expect(await explainChannelQuantity(reads, market, dead)).toMatchObject({ state: 'dead-lettered', deadLettered: { lastError: 'HTTP 500' } });
    expect(await explainChannelQuantity(reads, market, unlisted)).toMatchObject({ state: 'not-listed', notListed: { reason: 'no such listing' } });
    const report = await explainChannelQuantity(reads, market, unverified);
    expect(report?.state).toBe('unverified');
    expect(report?.unverifiedUntil).not.toBeNull();
  });
});
