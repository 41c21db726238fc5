import { Bench } from 'tinybench';
import { ChannelDispatcher } from '../core/dispatch/channel-dispatcher.ts';
import type { BehindSku, ChannelStateStore, LedgerChange, PushConfirmation, StockLevel } from '../core/ledger/ledger-types.ts';
import type { ConnectorInstance, PushResult, StockUpdate } from '../core/sdk.ts';
import { rowsOf, type MicroRow } from './micro-row.ts';

/** A store that remembers nothing: the dispatcher's own work is what is measured, not SQL. */
const nullStore: ChannelStateStore = {
  listBehind: async (): Promise<BehindSku[]> => [],
  getLevels: async (): Promise<Map<string, StockLevel>> => new Map(),
  recordConfirmed: async (_channel: string, _c: readonly PushConfirmation[]): Promise<void> => {},
  recordShown: async (): Promise<void> => {},
  recordDeadLettered: async (): Promise<void> => {},
  claimChannel: async (): Promise<number> => 1,
  recordWriting: async (): Promise<void> => {},
  recordNotListed: async (): Promise<void> => {},
  recordSettled: async (): Promise<void> => {},
  listRevisionBudgets: async () => [],
};

/**
 * The dispatcher in-process with a connector that answers at once: the cost of coalescing changes per
 * SKU, sorting by urgency and cutting batches, per ledger change. Calls per op show the coalescing.
 */
export async function dispatcherMicro(timeMs = 1_000): Promise<MicroRow[]> {
  let calls = 0;
  let items = 0;
  const connector: ConnectorInstance = {
    async push(updates: readonly StockUpdate[]): Promise<PushResult[]> {
      calls += 1;
      items += updates.length;
      return updates.map((u) => ({ sku: u.sku, status: 'ok' as const }));
    },
  };
  const dispatcher = new ChannelDispatcher({
    channelId: 'bench',
    connector,
    limits: { maxBatchSize: 100, perSecond: 1e9, burst: 1e9, concurrency: 4, compareAndSet: false },
    rules: { reserve: 0, share: 1 },
    store: nullStore,
    maxAttempts: 8,
    backoffBaseMs: 50,
    backoffMaxMs: 1000,
    reconcileIntervalMs: 3_600_000,
    pushTimeoutMs: 10_000,
    deadLetter: async () => {},
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  await dispatcher.start();
  const skus = Array.from({ length: 200 }, (_, i) => `D-${i}`);
  const versions = new Map<string, number>();
  const change = (sku: string): LedgerChange => {
    const version = (versions.get(sku) ?? 0) + 1;
    versions.set(sku, version);
    const now = new Date();
    return { sku, before: 10, available: version % 50, version, eventId: `e${version}`, eventType: 'order.confirmed', eventChannel: 'elsewhere', occurredAt: now, committedAt: now };
  };
  const CHANGES = 1_000;
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  bench.add('dispatch: 1 change, idle channel → 1 push', async () => {
    dispatcher.notify([change(skus[0]!)]);
    await dispatcher.idle();
  });
  bench.add(`dispatch: ${CHANGES} changes on 200 SKUs → coalesced batches of ≤100`, async () => {
    const batch: LedgerChange[] = [];
    for (let i = 0; i < CHANGES; i++) batch.push(change(skus[(i * 13) % skus.length]!));
    dispatcher.notify(batch);
    await dispatcher.idle();
  });
  await bench.run();
  await dispatcher.stop();
  const rows = rowsOf(bench, { [`dispatch: ${CHANGES} changes on 200 SKUs → coalesced batches of ≤100`]: CHANGES });
  rows.push({ name: 'dispatch: items per push call (coalescing)', opsPerSec: 0, itemsPerOp: calls > 0 ? Math.round((items / calls) * 10) / 10 : 0, meanMs: 0, p50Ms: 0, p99Ms: 0, samples: calls });
  return rows;
}
