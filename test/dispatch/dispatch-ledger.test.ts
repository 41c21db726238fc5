import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type LedgerDatabase } from '../../core/ledger/database.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { migrateToLatest } from '../../core/ledger/migrate.ts';
import type { EventOutcome } from '../../core/ledger/ledger-types.ts';
import { EventFactory } from '../ledger-support/ledger-backends.ts';
import { CHANNEL, dispatchHarness, settled, stopDispatchers, until } from '../support/dispatch-harness.ts';
import { RecordingConnector } from '../support/recording-connector.ts';
import { freshDatabase, type FreshDatabase } from '../support/servers.ts';

const changesOf = (outcomes: readonly EventOutcome[]) => outcomes.flatMap((o) => o.changes);

describe('ChannelDispatcher on the Postgres ledger', () => {
  let fresh: FreshDatabase;
  let handle: LedgerDatabase;
  let ledger: Ledger;

  beforeAll(async () => {
    fresh = await freshDatabase('dispatch');
    handle = await openDatabase({ url: fresh.url, poolSize: 4 });
    await migrateToLatest(handle.db);
    ledger = new Ledger(handle.db);
  });
  afterEach(stopDispatchers);
  afterAll(async () => {
    await handle?.close();
    await fresh?.drop();
  });

  it('brings the channel level with the ledger and records it durably', async () => {
    const f = new EventFactory();
    const [a, b] = [f.sku('a'), f.sku('b')];
    const { dispatcher, connector } = dispatchHarness({ store: ledger });
    await dispatcher.start();
    dispatcher.notify(changesOf(await ledger.applyBatch([f.set({ [a]: 10, [b]: 4 })])));
    dispatcher.notify(changesOf(await ledger.applyBatch([f.order({ [a]: 3, [b]: 1 }), f.order({ [a]: 1 })])));
    await settled(dispatcher);
    expect(connector.shown.get(a)).toBe(6);
    expect(connector.shown.get(b)).toBe(3);
    const states = await ledger.getChannelStates(CHANNEL, [a, b]);
    expect(states.map((s) => [s.sku, s.pushedVersion, s.pushedQuantity])).toEqual([
      [a, 3, 6],
      [b, 2, 3],
    ]);
    expect((await ledger.listBehind(CHANNEL)).filter((s) => s.sku === a || s.sku === b)).toEqual([]);
  });

  it('after a restart, pushes what an interrupted dispatcher left behind, at its newest quantity, and verifies it once its write can no longer land', async () => {
    const f = new EventFactory();
    const sku = f.sku('hot');
    const timing = { pushTimeoutMs: 300, lateWriteWindowMs: 200 };
    const first = dispatchHarness({ store: ledger, ...timing });
    await first.dispatcher.start();
    first.connector.hold();
    first.dispatcher.notify(changesOf(await ledger.applyBatch([f.set({ [sku]: 20 })])));
    await first.connector.waitForCalls(1);
    await ledger.applyBatch([f.order({ [sku]: 2 }), f.order({ [sku]: 5 })]);
    await first.dispatcher.stop();
    const [marked] = await ledger.getChannelStates(CHANNEL, [sku]);
    expect(marked?.writeUntil).toBeInstanceOf(Date);

    const connector = new RecordingConnector();
    const second = dispatchHarness({ store: ledger, connector, clock: first.clock, ...timing });
    await second.dispatcher.start();
    await settled(second.dispatcher);
    // The interrupted write (20) may land until its window ends: the first push of 13 cannot be trusted,
    // and without a read-back the channel is pushed again after the window.
    const updates = connector.updatesFor(sku);
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(new Set(updates.map((u) => `${u.quantity}@${u.version}`))).toEqual(new Set(['13@3']));
    expect(connector.calls.at(-1)!.startedAt).toBeGreaterThanOrEqual(marked!.writeUntil!.getTime());
    expect(await ledger.getChannelStates(CHANNEL, [sku])).toEqual([expect.objectContaining({ pushedVersion: 3, pushedQuantity: 13 })]);
  });

  it('marks a dead-lettered SKU in the ledger and clears the mark once the channel confirms it', async () => {
    const f = new EventFactory();
    const sku = f.sku('dl');
    const { dispatcher, connector, letters } = dispatchHarness({ store: ledger, maxAttempts: 2, reconcileIntervalMs: 200 });
    let down = true;
    connector.respond = (updates) => {
      if (down) throw new Error('ECONNRESET');
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    };
    await dispatcher.start();
    dispatcher.notify(changesOf(await ledger.applyBatch([f.set({ [sku]: 5 })])));
    await settled(dispatcher);
    expect(letters.map((l) => l.sku)).toContain(sku);
    expect(await ledger.getChannelStates(CHANNEL, [sku])).toEqual([expect.objectContaining({ lastError: 'ECONNRESET', pushedVersion: 0 })]);
    expect((await ledger.getChannelStates(CHANNEL, [sku]))[0]?.deadLetteredAt).toBeInstanceOf(Date);

    down = false;
    await until(dispatcher, async () => (await ledger.getChannelStates(CHANNEL, [sku]))[0]?.pushedVersion === 1);
    expect((await ledger.getChannelStates(CHANNEL, [sku]))[0]?.deadLetteredAt).toBeNull();
    expect(connector.shown.get(sku)).toBe(5);
  });

  it('refuses, in the database, channel-state writes of a pusher whose lease epoch was superseded', async () => {
    const f = new EventFactory();
    const sku = f.sku('fence');
    const channel = `${f.prefix}-fenced`;
    const old = await ledger.claimChannel(channel);
    await ledger.recordConfirmed(channel, [{ sku, version: 1, quantity: 4, confirmedAt: new Date() }], { epoch: old });
    const current = await ledger.claimChannel(channel);
    expect(current).toBeGreaterThan(old);
    const confirmation = { sku, version: 2, quantity: 9, confirmedAt: new Date() };
    await expect(ledger.recordConfirmed(channel, [confirmation], { epoch: old })).rejects.toMatchObject({ code: 'SR_CHANNEL_FENCED' });
    await expect(ledger.recordWriting(channel, [{ sku, until: new Date(Date.now() + 60_000) }], { epoch: old })).rejects.toMatchObject({ code: 'SR_CHANNEL_FENCED' });
    await expect(ledger.recordDeadLettered(channel, [{ sku, error: 'late' }], { epoch: old })).rejects.toMatchObject({ code: 'SR_CHANNEL_FENCED' });
    expect(await ledger.getChannelStates(channel, [sku])).toEqual([expect.objectContaining({ pushedVersion: 1, pushedQuantity: 4, deadLetteredAt: null, writeUntil: null })]);
    await ledger.recordConfirmed(channel, [confirmation], { epoch: current });
    expect(await ledger.getChannelStates(channel, [sku])).toEqual([expect.objectContaining({ pushedVersion: 2, pushedQuantity: 9 })]);
  });

  it('keeps what a SKU spent of its daily revisions across a restart', async () => {
    const f = new EventFactory();
    const sku = f.sku('rev');
    // 10 revisions a day: one may be spent at once, the next one 2.4 hours later.
    const limits = { dailyRevisionsPerSku: 10 };
    const first = dispatchHarness({ store: ledger, limits });
    await first.dispatcher.start();
    first.dispatcher.notify(changesOf(await ledger.applyBatch([f.set({ [sku]: 20 })])));
    await settled(first.dispatcher);
    expect(first.connector.updatesFor(sku)).toHaveLength(1);
    await first.dispatcher.stop();

    const connector = new RecordingConnector();
    const second = dispatchHarness({ store: ledger, connector, clock: first.clock, limits });
    await second.dispatcher.start();
    second.dispatcher.notify(changesOf(await ledger.applyBatch([f.set({ [sku]: 15 })])));
    await second.clock.advance(300);
    expect(connector.updatesFor(sku)).toEqual([]);
    expect(second.dispatcher.skuStatus(sku)).toMatchObject({ version: 2, inFlight: false, deadLettered: false });
  });
});
