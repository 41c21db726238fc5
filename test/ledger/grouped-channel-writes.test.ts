import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseChannelState } from '../../core/ledger/database-channel-state.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { EventFactory, pgliteBackend, postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';
import { StatementCounter } from '../ledger-support/statement-counter.ts';

const soon = (ms: number): Date => new Date(Date.now() + ms);

describe.each([postgresBackend(), pgliteBackend()])('confirmations and in-flight marks of many channels on $name', (backend: LedgerBackend) => {
  let ledger: Ledger;
  let counter: StatementCounter;
  let counted: DatabaseChannelState;

  beforeAll(async () => {
    await backend.setUp();
    const db = backend.primary().db;
    ledger = new Ledger(db);
    counter = new StatementCounter();
    counted = new DatabaseChannelState(db.withPlugin(counter));
  });
  afterAll(() => backend.tearDown());

  it('forty channels confirming at once are written in one statement, each channel its own rows', async () => {
    const f = new EventFactory();
    const sku = f.sku('hot');
    const channels = Array.from({ length: 40 }, (_, i) => `${f.prefix}-ch${i}`);
    const epochs = await Promise.all(channels.map((channel) => ledger.claimChannel(channel)));
    const before = counter.count;
    await Promise.all(channels.map((channel, i) => counted.recordConfirmed(channel, [{ sku, version: 3, quantity: i, confirmedAt: new Date() }], { epoch: epochs[i]! })));
    expect(counter.count - before).toBe(1);
    const states = await ledger.getChannelStatesOfSkus(channels, [sku]);
    expect(new Map(states.map((s) => [s.channelId, s.pushedQuantity]))).toEqual(new Map(channels.map((channel, i) => [channel, i])));
  });

  it('writes that arrive while a statement runs go together in the next one', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    const channels = Array.from({ length: 10 }, (_, i) => `${f.prefix}-ch${i}`);
    const before = counter.count;
    const first = counted.recordWriting(channels[0]!, [{ sku, until: soon(60_000) }]);
    // The first statement is on its way once this tick ends; these nine wait for it.
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    const rest = channels.slice(1).map((channel) => counted.recordWriting(channel, [{ sku, until: soon(60_000) }]));
    await Promise.all([first, ...rest]);
    expect(counter.count - before).toBeLessThanOrEqual(2);
    const states = await ledger.getChannelStatesOfSkus(channels, [sku]);
    expect(states.filter((s) => s.writeUntil !== null)).toHaveLength(channels.length);
  });

  it('refuses the rows of a superseded pusher and writes the other channels of the same statement', async () => {
    const f = new EventFactory();
    const sku = f.sku('fence');
    const [stale, live] = [`${f.prefix}-stale`, `${f.prefix}-live`];
    const old = await ledger.claimChannel(stale);
    const current = await ledger.claimChannel(stale);
    const liveEpoch = await ledger.claimChannel(live);
    const before = counter.count;
    const [refused, written] = await Promise.allSettled([
      counted.recordConfirmed(stale, [{ sku, version: 2, quantity: 9, confirmedAt: new Date() }], { epoch: old }),
      counted.recordConfirmed(live, [{ sku, version: 2, quantity: 5, confirmedAt: new Date() }], { epoch: liveEpoch }),
    ]);
    expect(counter.count - before).toBe(1);
    expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'SR_CHANNEL_FENCED' } });
    expect(written.status).toBe('fulfilled');
    expect(await ledger.getChannelStates(stale, [sku])).toEqual([expect.objectContaining({ pushedVersion: 0, pushedQuantity: null })]);
    expect(await ledger.getChannelStates(live, [sku])).toEqual([expect.objectContaining({ pushedVersion: 2, pushedQuantity: 5 })]);
    await counted.recordConfirmed(stale, [{ sku, version: 2, quantity: 9, confirmedAt: new Date() }], { epoch: current });
    expect(await ledger.getChannelStates(stale, [sku])).toEqual([expect.objectContaining({ pushedQuantity: 9 })]);
  });

  it('keeps an old and a new pusher of one channel in separate statements, so only the old one is refused', async () => {
    const f = new EventFactory();
    const sku = f.sku('takeover');
    const channel = `${f.prefix}-taken`;
    const old = await ledger.claimChannel(channel);
    const current = await ledger.claimChannel(channel);
    const [refused, written] = await Promise.allSettled([
      counted.recordWriting(channel, [{ sku, until: soon(30_000) }], { epoch: old }),
      counted.recordWriting(channel, [{ sku, until: soon(60_000) }], { epoch: current }),
    ]);
    expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'SR_CHANNEL_FENCED' } });
    expect(written.status).toBe('fulfilled');
    const [state] = await ledger.getChannelStates(channel, [sku]);
    expect(state?.writeUntil?.getTime()).toBeGreaterThan(Date.now() + 45_000);
  });

  it('two marks of one SKU in one statement keep the furthest landing time and the budget given last', async () => {
    const f = new EventFactory();
    const sku = f.sku('twice');
    const channel = `${f.prefix}-twice`;
    const epoch = await ledger.claimChannel(channel);
    const far = soon(90_000);
    const budgetAt = new Date();
    await Promise.all([
      counted.recordWriting(channel, [{ sku, until: far, revision: { tokens: 5, at: budgetAt } }], { epoch }),
      counted.recordWriting(channel, [{ sku, until: soon(10_000), revision: { tokens: 4, at: budgetAt } }], { epoch }),
    ]);
    const [state] = await ledger.getChannelStates(channel, [sku]);
    expect(state?.writeUntil?.getTime()).toBe(far.getTime());
    expect((await ledger.listRevisionBudgets(channel)).find((b) => b.sku === sku)?.tokens).toBe(4);
  });

  it('a confirmation older than the stored one in the same statement as a newer one leaves the newer', async () => {
    const f = new EventFactory();
    const sku = f.sku('late');
    const channel = `${f.prefix}-late`;
    await Promise.all([
      counted.recordConfirmed(channel, [{ sku, version: 7, quantity: 1, confirmedAt: new Date() }]),
      counted.recordConfirmed(channel, [{ sku, version: 5, quantity: 3, confirmedAt: new Date() }]),
    ]);
    expect(await ledger.getChannelStates(channel, [sku])).toEqual([expect.objectContaining({ pushedVersion: 7, pushedQuantity: 1 })]);
  });
});
