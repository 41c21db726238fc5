import { sql, type Selectable } from 'kysely';
import type { EventType } from '../events/event-types.ts';
import type { AuditEntry, OversellEntry, RejectedLineEntry } from './ledger-records.ts';
import type { BehindSku, ChannelSkuState, NotListedMark, StockLevel } from './ledger-types.ts';
import type { OrderLineRow } from './plan-batch.ts';
import type { AuditTable, OrderLineTable, OversellTable, RejectedLineTable } from './schema.ts';

/*
 * The one place where ledger rows become the objects the rest of the hub sees. Every read selects the
 * columns named here and maps them with the functions below, so a new column is added once.
 */

/**
 * `= ANY($1::text[])`: one parameter however many values, so the statement text (and its plan) stays the
 * same for any list, and long lists never reach the server's parameter limit.
 */
export function anyOf(values: readonly string[]) {
  return sql<string>`ANY(${[...new Set(values)]}::text[])`;
}

/** The columns of a {@link StockLevel}, selected from `stock as s`. */
export const STOCK_LEVEL_COLUMNS = ['s.sku', 's.available', 's.version', 's.updated_at'] as const;

/**
 * The columns of a {@link ChannelSkuState} besides its SKU, selected from `channel_state as c`. In a left
 * join from `stock` they are all null where the channel has no row for the SKU.
 */
export const CHANNEL_STATE_COLUMNS = [
  'c.channel_id',
  'c.pushed_version',
  'c.pushed_quantity',
  'c.confirmed_at',
  'c.dead_lettered_at',
  'c.last_error',
  'c.write_until',
  'c.not_listed_at',
  'c.not_listed_reason',
  'c.not_listed_config',
] as const;

interface StockLevelColumns {
  sku: string;
  available: number;
  version: number;
  updated_at: Date;
}

interface NotListedColumns {
  not_listed_at: Date | null;
  not_listed_reason: string | null;
  not_listed_config: string | null;
}

/** {@link CHANNEL_STATE_COLUMNS} as read; `pushed_version` null means never pushed (a left join found no row). */
interface ChannelStateColumns extends NotListedColumns {
  channel_id: string;
  sku: string;
  pushed_version: number | null;
  pushed_quantity: number | null;
  confirmed_at: Date | null;
  dead_lettered_at: Date | null;
  last_error: string | null;
  write_until: Date | null;
}

export function stockLevel(r: StockLevelColumns): StockLevel {
  return { sku: r.sku, available: r.available, version: r.version, updatedAt: r.updated_at };
}

export function channelSkuState(r: ChannelStateColumns): ChannelSkuState {
  return {
    channelId: r.channel_id,
    sku: r.sku,
    pushedVersion: r.pushed_version ?? 0,
    pushedQuantity: r.pushed_quantity,
    confirmedAt: r.confirmed_at,
    deadLetteredAt: r.dead_lettered_at,
    lastError: r.last_error,
    writeUntil: r.write_until ?? null,
    notListed: notListedMark(r),
  };
}

/** What a channel never pushed a SKU to looks like: version 0, nothing confirmed, no marks. */
export function neverPushed(channelId: string, sku: string): ChannelSkuState {
  return channelSkuState({
    channel_id: channelId,
    sku,
    pushed_version: null,
    pushed_quantity: null,
    confirmed_at: null,
    dead_lettered_at: null,
    last_error: null,
    write_until: null,
    not_listed_at: null,
    not_listed_reason: null,
    not_listed_config: null,
  });
}

/** A stock row joined with the channel's state of it (null columns where the channel has none). */
export function behindSku(r: StockLevelColumns & Omit<ChannelStateColumns, 'channel_id' | 'sku'>): BehindSku {
  return {
    ...stockLevel(r),
    pushedVersion: r.pushed_version ?? 0,
    pushedQuantity: r.pushed_quantity,
    writeUntil: r.write_until ?? null,
    notListed: notListedMark(r),
  };
}

/** A not-listed mark counts only with the config fingerprint it was given under. */
export function notListedMark(r: NotListedColumns): NotListedMark | null {
  if (r.not_listed_at === null || r.not_listed_config === null) return null;
  return { at: r.not_listed_at, reason: r.not_listed_reason ?? '', config: r.not_listed_config };
}

export function auditEntry(r: Selectable<AuditTable>): AuditEntry {
  return {
    id: r.id,
    eventId: r.event_id,
    eventType: r.event_type as EventType,
    channel: r.channel,
    sku: r.sku,
    before: r.before,
    after: r.after,
    version: Number(r.version),
    clamped: r.clamped,
    occurredAt: r.occurred_at,
    createdAt: r.created_at,
  };
}

export function oversellEntry(r: Selectable<OversellTable>): OversellEntry {
  return {
    id: r.id,
    eventId: r.event_id,
    channel: r.channel,
    sku: r.sku,
    requested: r.requested,
    availableBefore: r.available_before,
    shortfall: r.shortfall,
    createdAt: r.created_at,
  };
}

export function rejectedLineEntry(r: Selectable<RejectedLineTable>): RejectedLineEntry {
  return {
    id: r.id,
    eventId: r.event_id,
    channel: r.channel,
    sku: r.sku,
    qty: r.qty,
    reason: r.reason as RejectedLineEntry['reason'],
    createdAt: r.created_at,
  };
}

export function orderLineRow(r: Omit<Selectable<OrderLineTable>, 'updated_at'>): OrderLineRow {
  return {
    channel: r.channel,
    orderId: r.order_id,
    sku: r.sku,
    requested: Number(r.requested),
    taken: Number(r.taken),
    cancelled: Number(r.cancelled),
    restored: Number(r.restored),
    untaken: Number(r.untaken),
    pending: Number(r.pending),
    netted: Number(r.netted),
    returned: Number(r.returned),
    restocked: Number(r.restocked),
    version: Number(r.version),
  };
}
