import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../core/ledger/ledger.ts';
import { EventFactory, pgliteBackend, postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';
import { StatementCounter } from '../ledger-support/statement-counter.ts';

describe.each([postgresBackend(), pgliteBackend()])('ledger on $name', (backend: LedgerBackend) => {
  let ledger: Ledger;
  beforeAll(async () => {
    await backend.setUp();
    ledger = new Ledger(backend.primary().db);
  });
  afterAll(() => backend.tearDown());

  it('creates a SKU on stock.set, at version 1', async () => {
    const f = new EventFactory();
    const [outcome] = await ledger.applyBatch([f.set({ [f.sku('a')]: 7 })]);
    expect(outcome).toMatchObject({ status: 'applied', changes: [{ sku: f.sku('a'), before: 0, available: 7, version: 1 }] });
    expect(await ledger.getLevel(f.sku('a'))).toMatchObject({ available: 7, version: 1 });
  });

  it('returns versions and ids as JS numbers', async () => {
    const f = new EventFactory();
    await ledger.applyBatch([f.set({ [f.sku('a')]: 3 }), f.adjust({ [f.sku('a')]: 1 })]);
    const level = await ledger.getLevel(f.sku('a'));
    const [audit] = await ledger.listAudit({ sku: f.sku('a'), limit: 1 });
    expect(typeof level?.version).toBe('number');
    expect(level?.updatedAt).toBeInstanceOf(Date);
    expect(typeof audit?.id).toBe('number');
    expect(audit?.version).toBe(2);
  });

  it('applies an event id repeated in the same batch once', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    const set = f.set({ [sku]: 10 });
    const order = f.order({ [sku]: 3 });
    const outcomes = await ledger.applyBatch([set, order, order]);
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'duplicate']);
    expect(outcomes[2]!.changes).toEqual([]);
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 7, version: 2 });
  });

  it('applies an event id delivered again in a later batch once', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    const order = f.order({ [sku]: 3 });
    await ledger.applyBatch([f.set({ [sku]: 10 }), order]);
    const [again] = await ledger.applyBatch([order]);
    expect(again).toEqual({ eventId: order.id, status: 'duplicate', changes: [], oversells: [], rejectedLines: [] });
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 7, version: 2 });
    expect(await ledger.isProcessed(order.id)).toBe(true);
  });

  it('applies every line of a multi-line order', async () => {
    const f = new EventFactory();
    const [a, b, c] = [f.sku('a'), f.sku('b'), f.sku('c')];
    await ledger.applyBatch([f.set({ [a]: 5, [b]: 5, [c]: 5 })]);
    const [outcome] = await ledger.applyBatch([f.order({ [a]: 1, [b]: 2, [c]: 5 })]);
    expect(outcome!.changes.map((ch) => [ch.sku, ch.before, ch.available, ch.version])).toEqual([
      [a, 5, 4, 2],
      [b, 5, 3, 2],
      [c, 5, 0, 2],
    ]);
    const levels = await ledger.getLevels([a, b, c]);
    expect([...levels.values()].map((l) => l.available).sort()).toEqual([0, 3, 4]);
  });

  it('decrements a short order to zero and records the shortfall as an oversell', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await ledger.applyBatch([f.set({ [sku]: 2 })]);
    const order = f.order({ [sku]: 5 }, 'shop-b');
    const [outcome] = await ledger.applyBatch([order]);
    const expected = { eventId: order.id, channel: 'shop-b', sku, requested: 5, availableBefore: 2, shortfall: 3 };
    expect(outcome!.oversells).toEqual([expected]);
    expect(outcome!.changes).toMatchObject([{ before: 2, available: 0 }]);
    expect(await ledger.listOversells({ sku })).toMatchObject([expected]);
  });

  it('records an order that finds zero as an oversell of its whole quantity, without an audit row', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await ledger.applyBatch([f.set({ [sku]: 0 })]);
    const [outcome] = await ledger.applyBatch([f.order({ [sku]: 2 })]);
    expect(outcome).toMatchObject({ status: 'applied', changes: [], oversells: [{ shortfall: 2, availableBefore: 0 }] });
    expect(await ledger.listAudit({ sku })).toHaveLength(1);
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 0, version: 1 });
  });

  it('records an order line for an unknown SKU as a rejected line and applies the others', async () => {
    const f = new EventFactory();
    const [known, unknown] = [f.sku('known'), f.sku('unknown')];
    await ledger.applyBatch([f.set({ [known]: 4 })]);
    const order = f.order({ [known]: 1, [unknown]: 2 });
    const [outcome] = await ledger.applyBatch([order]);
    expect(outcome!.rejectedLines).toEqual([{ eventId: order.id, channel: 'shop-a', sku: unknown, reason: 'unknown_sku' }]);
    expect(outcome!.changes).toMatchObject([{ sku: known, available: 3 }]);
    expect(await ledger.listRejectedLines({ sku: unknown })).toMatchObject([{ eventId: order.id, qty: 2, reason: 'unknown_sku' }]);
    expect(await ledger.getLevel(unknown)).toBeUndefined();
  });

  it('records a cancel line for an unknown SKU as a rejected line', async () => {
    const f = new EventFactory();
    const sku = f.sku('ghost');
    const [outcome] = await ledger.applyBatch([f.cancel({ [sku]: 1 })]);
    expect(outcome!.rejectedLines).toMatchObject([{ sku, reason: 'unknown_sku' }]);
    expect(await ledger.getLevel(sku)).toBeUndefined();
  });

  it('puts a cancelled order back in stock', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await ledger.applyBatch([f.set({ [sku]: 5 }), f.order({ [sku]: 2 })]);
    const [outcome] = await ledger.applyBatch([f.cancel({ [sku]: 2 })]);
    expect(outcome!.changes).toMatchObject([{ sku, before: 3, available: 5, version: 3, eventType: 'order.cancelled' }]);
  });

  it('clamps a stock adjustment at zero and keeps the ignored units in the audit row, not as an oversell', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await ledger.applyBatch([f.set({ [sku]: 3 })]);
    const [outcome] = await ledger.applyBatch([f.adjust({ [sku]: -5 })]);
    expect(outcome).toMatchObject({ changes: [{ before: 3, available: 0 }], oversells: [] });
    const [audit] = await ledger.listAudit({ sku, limit: 1 });
    expect(audit).toMatchObject({ eventType: 'stock.adjusted', before: 3, after: 0, clamped: 2 });
    expect(await ledger.listOversells({ sku })).toEqual([]);
  });

  it('creates a SKU on stock.adjusted for a SKU it does not know', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await ledger.applyBatch([f.adjust({ [sku]: 4 })]);
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 4, version: 1 });
  });

  it('neither bumps the version nor writes audit for a line that leaves the quantity unchanged', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await ledger.applyBatch([f.set({ [sku]: 5 })]);
    const [outcome] = await ledger.applyBatch([f.set({ [sku]: 5 })]);
    expect(outcome).toMatchObject({ status: 'applied', changes: [] });
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 5, version: 1 });
    expect(await ledger.listAudit({ sku })).toHaveLength(1);
  });

  it('gives each change to a SKU within one batch its own consecutive version and audit row', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    const outcomes = await ledger.applyBatch([f.set({ [sku]: 4 }), f.order({ [sku]: 1 }), f.order({ [sku]: 1 }), f.cancel({ [sku]: 1 })]);
    expect(outcomes.flatMap((o) => o.changes.map((c) => [c.before, c.available, c.version]))).toEqual([
      [0, 4, 1],
      [4, 3, 2],
      [3, 2, 3],
      [2, 3, 4],
    ]);
    const audit = await ledger.listAudit({ sku });
    expect(audit.map((a) => a.version)).toEqual([4, 3, 2, 1]);
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 3, version: 4 });
  });

  it('applies 200 concurrent one-unit orders for 50 units exactly 50 times', async () => {
    const f = new EventFactory();
    const sku = f.sku('hot');
    await ledger.applyBatch([f.set({ [sku]: 50 })]);
    const orders = Array.from({ length: 200 }, () => f.order({ [sku]: 1 }));
    const batches = Array.from({ length: 8 }, (_, i) => orders.filter((_, j) => j % 8 === i));
    // Eight writers on one hot row is the worst case the hub routes around; give them room to retry.
    const ledgers = [
      new Ledger(backend.primary().db, { maxConflictRetries: 40 }),
      new Ledger((await backend.secondary()).db, { maxConflictRetries: 40 }),
    ];
    const outcomes = (await Promise.all(batches.map((batch, i) => ledgers[i % 2]!.applyBatch(batch)))).flat();

    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    const changes = outcomes.flatMap((o) => o.changes);
    expect(changes).toHaveLength(50);
    expect(changes.map((c) => c.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 0, version: 51 });
    const oversells = await ledger.listOversells({ sku, limit: 1000 });
    expect(oversells).toHaveLength(150);
    expect(oversells.every((o) => o.shortfall === 1)).toBe(true);
    const audit = await ledger.listAudit({ sku, limit: 1000 });
    expect(audit.filter((a) => a.eventType === 'order.confirmed')).toHaveLength(50);
  });

  it('applies a batch of 500 events in a fixed number of statements, whatever its size', async () => {
    const f = new EventFactory();
    const skus = Array.from({ length: 50 }, (_, i) => f.sku(`s${i}`));
    await ledger.applyBatch([f.set(Object.fromEntries(skus.map((s) => [s, 5])))]);
    const events = Array.from({ length: 500 }, (_, i) =>
      i % 5 === 4 ? f.cancel({ [skus[i % 50]!]: 1 }) : f.order({ [skus[i % 50]!]: 1, [f.sku('unknown')]: 1 }),
    );
    const counter = new StatementCounter();
    const counting = new Ledger(backend.primary().db.withPlugin(counter));
    const outcomes = await counting.applyBatch(events);
    expect(outcomes.filter((o) => o.oversells.length > 0).length).toBeGreaterThan(0);
    // One read (processed ids, stock rows, order lines) and one write (every table, its locks checked).
    expect(counter.count).toBe(2);
  });

  it('reports changes with the event that caused them and the commit time', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    const event = f.set({ [sku]: 2 }, 'import');
    const before = Date.now();
    const [outcome] = await ledger.applyBatch([event]);
    const change = outcome!.changes[0]!;
    expect(change).toMatchObject({ eventId: event.id, eventType: 'stock.set', eventChannel: 'import' });
    expect(change.occurredAt.toISOString()).toBe(event.occurredAt);
    expect(change.committedAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('stores SKUs and ids with quotes, backslashes, separators and emoji as they came, and a lone surrogate as U+FFFD', async () => {
    const f = new EventFactory();
    const odd = f.sku(`q"uo\\te,{a}[b] 📦 'x'`);
    const lone = f.sku('half\ud800');
    const order = f.confirmOrder('o"1\\', { [odd]: 2 });
    await ledger.applyBatch([f.set({ [odd]: 5, [lone]: 4 }), order]);
    expect(await ledger.getLevel(odd)).toMatchObject({ available: 3, version: 2 });
    expect(await ledger.getLevel(f.sku('half\ufffd'))).toMatchObject({ available: 4, version: 1 });
    expect(await ledger.history.isProcessed(order.id)).toBe(true);
  });

  it('keeps the order lines of different orders apart whatever their ids and SKUs contain', async () => {
    const f = new EventFactory();
    const [zx, x] = [`Z${f.sku('x')}`, f.sku('x')];
    // Order "…A" of SKU "Z…x" and order "…AZ" of SKU "…x": order id and SKU joined without care make one key.
    await ledger.applyBatch([f.set({ [zx]: 10, [x]: 10 }), f.confirmOrder('A', { [zx]: 2 }), f.confirmOrder('AZ', { [x]: 3 })]);
    await ledger.applyBatch([f.cancelOrder('AZ', { [x]: 3 })]);
    expect(await ledger.getLevel(zx)).toMatchObject({ available: 8 });
    expect(await ledger.getLevel(x)).toMatchObject({ available: 10 });
  });

  it('filters audit rows by channel', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    await ledger.applyBatch([f.set({ [sku]: 9 }), f.order({ [sku]: 1 }, `${f.prefix}-shop`)]);
    const audit = await ledger.listAudit({ channel: `${f.prefix}-shop` });
    expect(audit).toMatchObject([{ sku, eventType: 'order.confirmed', before: 9, after: 8 }]);
  });

  describe('channel state', () => {
    it('lists a SKU never pushed to a channel as behind', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 3 })]);
      const behind = (await ledger.listBehind(`${f.prefix}-ch`)).filter((b) => b.sku.startsWith(f.prefix));
      expect(behind).toMatchObject([{ sku, available: 3, version: 1, pushedVersion: 0, pushedQuantity: null }]);
    });

    it('stops listing a SKU once its current version is confirmed, and lists it again after the next change', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      const channel = `${f.prefix}-ch`;
      const mine = async () => (await ledger.listBehind(channel)).filter((b) => b.sku.startsWith(f.prefix));
      await ledger.applyBatch([f.set({ [sku]: 3 })]);
      await ledger.recordConfirmed(channel, [{ sku, version: 1, quantity: 3, confirmedAt: new Date() }]);
      expect(await mine()).toEqual([]);
      await ledger.applyBatch([f.order({ [sku]: 1 })]);
      expect(await mine()).toMatchObject([{ sku, available: 2, version: 2, pushedVersion: 1, pushedQuantity: 3 }]);
    });

    it('never lowers the pushed version when a late confirmation arrives', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      const channel = `${f.prefix}-ch`;
      await ledger.recordConfirmed(channel, [{ sku, version: 5, quantity: 1, confirmedAt: new Date() }]);
      await ledger.recordConfirmed(channel, [{ sku, version: 3, quantity: 4, confirmedAt: new Date() }]);
      expect(await ledger.getChannelStates(channel, [sku])).toMatchObject([{ sku, pushedVersion: 5, pushedQuantity: 1 }]);
    });

    it('keeps the newest of several confirmations for one SKU in one call', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      const channel = `${f.prefix}-ch`;
      const at = new Date();
      await ledger.recordConfirmed(channel, [
        { sku, version: 2, quantity: 8, confirmedAt: at },
        { sku, version: 1, quantity: 9, confirmedAt: at },
      ]);
      expect(await ledger.getChannelStates(channel, [sku])).toMatchObject([{ pushedVersion: 2, pushedQuantity: 8 }]);
    });

    it('marks a SKU dead-lettered and clears the mark on the next confirmation', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      const channel = `${f.prefix}-ch`;
      await ledger.recordDeadLettered(channel, [{ sku, error: 'HTTP 400 unknown listing' }]);
      const [marked] = await ledger.getChannelStates(channel, [sku]);
      expect(marked).toMatchObject({ pushedVersion: 0, lastError: 'HTTP 400 unknown listing' });
      expect(marked!.deadLetteredAt).toBeInstanceOf(Date);
      await ledger.recordConfirmed(channel, [{ sku, version: 1, quantity: 2, confirmedAt: new Date() }]);
      expect(await ledger.getChannelStates(channel, [sku])).toMatchObject([{ pushedVersion: 1, deadLetteredAt: null, lastError: null }]);
    });

    it('keeps a dead-lettered SKU in the behind list', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      const channel = `${f.prefix}-ch`;
      await ledger.applyBatch([f.set({ [sku]: 1 })]);
      await ledger.recordDeadLettered(channel, [{ sku, error: 'boom' }]);
      expect((await ledger.listBehind(channel)).map((b) => b.sku)).toContain(sku);
    });

    it('records what a channel shows without counting it as confirmed', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      const channel = `${f.prefix}-ch`;
      await ledger.applyBatch([f.set({ [sku]: 6 })]);
      await ledger.recordConfirmed(channel, [{ sku, version: 1, quantity: 6, confirmedAt: new Date() }]);
      await ledger.recordShown(channel, sku, 4);
      expect(await ledger.getChannelStates(channel, [sku])).toMatchObject([{ pushedVersion: 1, pushedQuantity: 4 }]);
    });

    it('reports a never-pushed SKU asked for by name with pushed version 0', async () => {
      const f = new EventFactory();
      const channel = `${f.prefix}-ch`;
      expect(await ledger.getChannelStates(channel, [f.sku('none')])).toEqual([
        { channelId: channel, sku: f.sku('none'), pushedVersion: 0, pushedQuantity: null, confirmedAt: null, deadLetteredAt: null, lastError: null, writeUntil: null, notListed: null },
      ]);
    });
  });
  describe('cancel before confirm', () => {
    it('restocks nothing when the cancellation comes first, and the confirmation then takes nothing', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 10 })]);
      const [cancelled] = await ledger.applyBatch([f.cancelOrder('1', { [sku]: 3 })]);
      expect(cancelled!.changes).toEqual([]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 10 });
      const [confirmed] = await ledger.applyBatch([f.confirmOrder('1', { [sku]: 3 })]);
      expect(confirmed!.changes).toEqual([]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 10, version: 1 });
      expect(await ledger.getOrderLines('shop-a', `${f.prefix}-1`)).toMatchObject([{ requested: 3, taken: 0, cancelled: 3, restored: 0, pending: 0, netted: 3 }]);
    });

    it('nets the cancelled units only: a confirmation for more takes the rest', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 10 }), f.cancelOrder('1', { [sku]: 1 })]);
      await ledger.applyBatch([f.confirmOrder('1', { [sku]: 3 })]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 8 });
      await ledger.applyBatch([f.cancelOrder('1', { [sku]: 2 }, 2)]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 10 });
    });

    it('records no oversell for netted units, and only the real shortfall otherwise', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 1 }), f.cancelOrder('1', { [sku]: 1 })]);
      const [confirmed] = await ledger.applyBatch([f.confirmOrder('1', { [sku]: 3 })]);
      expect(confirmed!.oversells).toMatchObject([{ requested: 2, availableBefore: 1, shortfall: 1 }]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 0 });
      // The rest of the order cancelled: one unit was oversold (never in stock), one was taken.
      await ledger.applyBatch([f.cancelOrder('1', { [sku]: 2 }, 2)]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 1 });
    });

    it('nets in one batch too, whichever comes first', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 5 }), f.cancelOrder('1', { [sku]: 2 }), f.confirmOrder('1', { [sku]: 2 })]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 5, version: 1 });
    });

    it('ends at the same quantity under every order of delivery, with every event delivered twice', async () => {
      const f = new EventFactory();
      const template = (order: string, sku: string) => [f.confirmOrder(order, { [sku]: 4 }), f.cancelOrder(order, { [sku]: 1 }, 1), f.cancelOrder(order, { [sku]: 2 }, 2)];
      const skus: string[] = [];
      for (const order of permutations([0, 1, 2])) {
        const sku = f.sku(`p${order.join('')}`);
        skus.push(sku);
        const events = template(order.join(''), sku);
        await ledger.applyBatch([f.set({ [sku]: 10 })]);
        for (const i of order) await ledger.applyBatch([events[i]!]);
        // Redelivery of everything, newest first, after the fact.
        await ledger.applyBatch([...order].reverse().map((i) => events[i]!));
      }
      const levels = await ledger.getLevels(skus);
      expect(skus.map((sku) => levels.get(sku)?.available)).toEqual(skus.map(() => 9));
    });
  });

  describe('returns', () => {
    it('restock only the units the channel says went back into stock', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 10 }), f.confirmOrder('1', { [sku]: 4 })]);
      const [returned] = await ledger.applyBatch([f.returnOrder('1', { [sku]: [3, 2] })]);
      expect(returned!.changes).toMatchObject([{ sku, before: 6, available: 8, eventType: 'order.returned' }]);
      expect(await ledger.getOrderLines('shop-a', `${f.prefix}-1`)).toMatchObject([{ taken: 4, returned: 3, restocked: 2, restored: 2 }]);
    });

    it('change no stock for a refund without restocking', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 10 }), f.confirmOrder('1', { [sku]: 4 })]);
      const [refund] = await ledger.applyBatch([f.returnOrder('1', { [sku]: [4, 0] })]);
      expect(refund).toMatchObject({ status: 'applied', changes: [] });
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 6 });
    });

    it('never restock more than the line took minus what was already restored', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 10 }), f.confirmOrder('1', { [sku]: 4 }), f.cancelOrder('1', { [sku]: 2 })]);
      await ledger.applyBatch([f.returnOrder('1', { [sku]: [4, 4] })]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 10 });
      await ledger.applyBatch([f.returnOrder('1', { [sku]: [1, 1] }, 2)]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 10 });
    });

    it('restock at most what an oversold line took', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 3 }), f.confirmOrder('1', { [sku]: 5 })]);
      await ledger.applyBatch([f.returnOrder('1', { [sku]: [5, 5] })]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 3 });
    });

    it('apply a redelivered return once', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      const refund = f.returnOrder('1', { [sku]: [1, 1] });
      await ledger.applyBatch([f.set({ [sku]: 10 }), f.confirmOrder('1', { [sku]: 4 }), refund]);
      const [again] = await ledger.applyBatch([refund]);
      expect(again!.status).toBe('duplicate');
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 7 });
    });

    it('record a return line for an unknown SKU as a rejected line', async () => {
      const f = new EventFactory();
      const [outcome] = await ledger.applyBatch([f.returnOrder('1', { [f.sku('nope')]: [2, 2] })]);
      expect(outcome!.rejectedLines).toMatchObject([{ sku: f.sku('nope'), reason: 'unknown_sku' }]);
    });

    it('end at the same quantity under every order of confirmation, partial cancellation and restocked return', async () => {
      const f = new EventFactory();
      const skus: string[] = [];
      for (const order of permutations([0, 1, 2])) {
        const sku = f.sku(`r${order.join('')}`);
        const id = `r${order.join('')}`;
        skus.push(sku);
        const events = [f.confirmOrder(id, { [sku]: 4 }), f.cancelOrder(id, { [sku]: 1 }), f.returnOrder(id, { [sku]: [2, 1] })];
        await ledger.applyBatch([f.set({ [sku]: 10 })]);
        for (const i of order) await ledger.applyBatch([events[i]!, events[i]!]);
      }
      const levels = await ledger.getLevels(skus);
      // 4 ordered, 1 cancelled, 2 returned of which 1 restocked: 2 units stay out.
      expect(skus.map((sku) => levels.get(sku)?.available)).toEqual(skus.map(() => 8));
    });
  });

  describe('cancellations', () => {
    it('restore only what the confirmation took, never the oversold part', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 50 })]);
      const [confirmed] = await ledger.applyBatch([f.confirmOrder('1', { [sku]: 80 })]);
      expect(confirmed!.oversells).toMatchObject([{ requested: 80, availableBefore: 50, shortfall: 30 }]);
      await ledger.applyBatch([f.cancelOrder('1', { [sku]: 80 })]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 50 });
    });

    it('record per order line what was asked, taken, cancelled and restored, in the same transaction', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 50 }), f.confirmOrder('1', { [sku]: 80 }), f.cancelOrder('1', { [sku]: 80 })]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 50 });
      expect(await ledger.getOrderLines('shop-a', `${f.prefix}-1`)).toMatchObject([{ sku, requested: 80, taken: 50, cancelled: 80, restored: 50 }]);
    });

    it('count cancelled units against the oversold part first', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 50 }), f.confirmOrder('1', { [sku]: 80 })]);
      const [oversoldPart] = await ledger.applyBatch([f.cancelOrder('1', { [sku]: 30 }, 1)]);
      expect(oversoldPart!.changes).toEqual([]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 0 });
      await ledger.applyBatch([f.cancelOrder('1', { [sku]: 50 }, 2)]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 50 });
    });

    it('never restore more than was taken, however often the order is cancelled', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 10 }), f.confirmOrder('1', { [sku]: 4 })]);
      await ledger.applyBatch([f.cancelOrder('1', { [sku]: 4 }, 1)]);
      await ledger.applyBatch([f.cancelOrder('1', { [sku]: 4 }, 2), f.cancelOrder('1', { [sku]: 4 }, 3)]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 10 });
    });

    it('restore each line of a multi-line order by what that line took', async () => {
      const f = new EventFactory();
      const [a, b] = [f.sku('a'), f.sku('b')];
      await ledger.applyBatch([f.set({ [a]: 5, [b]: 20 }), f.confirmOrder('1', { [a]: 8, [b]: 8 })]);
      expect(await ledger.getLevels([a, b])).toMatchObject(new Map([[a, { available: 0 }], [b, { available: 12 }]]));
      await ledger.applyBatch([f.cancelOrder('1', { [a]: 8, [b]: 8 })]);
      expect(await ledger.getLevels([a, b])).toMatchObject(new Map([[a, { available: 5 }], [b, { available: 20 }]]));
    });

    it('restore nothing for a line whose SKU the ledger did not know when the order came', async () => {
      const f = new EventFactory();
      const sku = f.sku('late');
      await ledger.applyBatch([f.confirmOrder('1', { [sku]: 3 })]);
      await ledger.applyBatch([f.set({ [sku]: 7 }), f.cancelOrder('1', { [sku]: 3 })]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 7 });
    });

    it('put the full quantity back for a cancellation without an order id, which nothing can match', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 10 })]);
      await ledger.applyBatch([f.cancel({ [sku]: 2 })]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 12 });
    });
    it('keep orders of different channels with the same order id apart', async () => {
      const f = new EventFactory();
      const sku = f.sku('a');
      await ledger.applyBatch([f.set({ [sku]: 10 }), f.confirmOrder('1', { [sku]: 10 }, 'shop-a'), f.confirmOrder('1', { [sku]: 5 }, 'shop-b')]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 0 });
      await ledger.applyBatch([f.cancelOrder('1', { [sku]: 5 }, 1, 'shop-b')]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 0 });
      await ledger.applyBatch([f.cancelOrder('1', { [sku]: 10 }, 1, 'shop-a')]);
      expect(await ledger.getLevel(sku)).toMatchObject({ available: 10 });
    });
  });
});

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
