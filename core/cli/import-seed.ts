import { createHash } from 'node:crypto';
import type { InventoryEvent } from '../events/event-types.ts';

/** Most characters of an event id (the event schemas' limit). */
const MAX_EVENT_ID = 200;

/**
 * The id of the seed event of one SKU from one channel's import. It holds no quantity and no time, so running
 * the import again publishes the same id: the stream's duplicate window and the ledger's idempotency record
 * each let it count once, whatever quantity a later run read.
 */
export function seedEventId(channelId: string, sku: string): string {
  const id = `${channelId}:import:seed:${sku}`;
  if (id.length <= MAX_EVENT_ID && !/[\u0000-\u001f\u007f]/.test(id)) return id;
  return `${channelId}:import:seed:sha256:${createHash('sha256').update(sku).digest('hex')}`;
}

/** What seeding found and did (or would do, on a dry run). */
export interface SeedPlan {
  /** SKUs whose count comes from the channel, with that count. */
  seed: Array<{ sku: string; quantity: number }>;
  /** SKUs the ledger already counts: left alone, since the ledger is the truth once it holds a count. */
  alreadyCounted: Array<{ sku: string; ledger: number; channel: number }>;
  /** SKUs the channel shows below zero (some channels allow it): seeded as 0. */
  negative: string[];
}

/**
 * Which of a channel's SKUs are seeded: those the ledger does not count yet. A SKU the ledger already counts
 * is never overwritten by what one channel shows: orders and counts since the ledger started would be lost,
 * and the channel is about to be made to show the ledger's number anyway. Pure.
 */
export function planSeed(found: ReadonlyMap<string, number>, counted: ReadonlyMap<string, number>): SeedPlan {
  const plan: SeedPlan = { seed: [], alreadyCounted: [], negative: [] };
  for (const [sku, shown] of found) {
    const ledger = counted.get(sku);
    if (ledger !== undefined) {
      plan.alreadyCounted.push({ sku, ledger, channel: shown });
      continue;
    }
    if (shown < 0) plan.negative.push(sku);
    plan.seed.push({ sku, quantity: Math.max(0, Math.floor(shown)) });
  }
  return plan;
}

/** The `stock.set` event that seeds one SKU (one event per SKU, so each SKU's id stays stable on its own). */
export function seedEvent(channelId: string, sku: string, quantity: number, at: Date): InventoryEvent {
  return {
    id: seedEventId(channelId, sku),
    type: 'stock.set',
    channel: channelId,
    occurredAt: at.toISOString(),
    reference: `stockrelay import --seed-ledger from channel ${channelId}`,
    lines: [{ sku, quantity }],
  };
}
