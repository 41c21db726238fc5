import type { ColumnType, Generated } from 'kysely';

/** A timestamptz column: read as a Date, written as a Date or an ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamptz column the database fills in (`DEFAULT now()`) unless told otherwise. */
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** One row per SKU: the shared number every channel is derived from. */
export interface StockTable {
  sku: string;
  /** Never negative (CHECK constraint). */
  available: number;
  /** bigint, read as a JS number; bumped once per change. */
  version: Generated<number>;
  updated_at: DefaultTimestamp;
}

/** The idempotency record: an event id present here has been applied, in the same transaction as its effect. */
export interface ProcessedEventTable {
  event_id: string;
  event_type: string;
  channel: string;
  occurred_at: Timestamp;
  processed_at: DefaultTimestamp;
}

export interface OversellTable {
  id: Generated<number>;
  event_id: string;
  channel: string;
  sku: string;
  requested: number;
  available_before: number;
  shortfall: number;
  created_at: DefaultTimestamp;
}

/** One row per changed SKU per event. */
export interface AuditTable {
  id: Generated<number>;
  event_id: string;
  event_type: string;
  channel: string;
  sku: string;
  before: number;
  after: number;
  version: number;
  /** Units a `stock.adjusted` asked to remove below zero and that the ledger ignored (0 when none). */
  clamped: Generated<number>;
  occurred_at: Timestamp;
  created_at: DefaultTimestamp;
}

export interface RejectedLineTable {
  id: Generated<number>;
  event_id: string;
  channel: string;
  sku: string;
  qty: number;
  reason: string;
  created_at: DefaultTimestamp;
}

export interface ChannelStateTable {
  channel_id: string;
  sku: string;
  pushed_version: Generated<number>;
  pushed_quantity: number | null;
  confirmed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  dead_lettered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: string | null;
  /** A write of the SKU may still land on the channel until then (see migration 0003). */
  write_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  not_listed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  not_listed_reason: string | null;
  /** Fingerprint of the channel's connector and options when the channel said "not listed". */
  not_listed_config: string | null;
  /** Revisions left in the SKU's daily budget at `revision_at` (channels with one, e.g. eBay). */
  revision_tokens: number | null;
  revision_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** One row per channel: the epoch of its current pusher (bumped by every process that takes it over). */
export interface ChannelLeaseTable {
  channel_id: string;
  epoch: number;
  acquired_at: DefaultTimestamp;
}

/** Durable key-value state of one channel's connector (see `ConnectorStateStore` in the SDK). */
export interface ConnectorStateTable {
  channel_id: string;
  key: string;
  value: string;
  updated_at: DefaultTimestamp;
}

/**
 * What one order took from and gave back to one SKU's stock, cumulative over the order's events, keyed
 * by (channel, order id, SKU). `taken` <= `requested` (the rest was oversold or netted); `restored` <= `taken`
 * for lines written since migration 0004.
 */
export interface OrderLineTable {
  channel: string;
  order_id: string;
  sku: string;
  requested: number;
  taken: number;
  cancelled: number;
  restored: number;
  /** See migration 0004: oversold units no cancellation has covered yet. */
  untaken: Generated<number>;
  /** Units asked back before the line held them; the next confirmations net them. */
  pending: Generated<number>;
  /** Units confirmations did not take because of `pending`. */
  netted: Generated<number>;
  /** Units returns reported, restocked or not. */
  returned: Generated<number>;
  /** Units returns said went back to stock. */
  restocked: Generated<number>;
  /** Optimistic lock, like `stock.version`. */
  version: number;
  updated_at: DefaultTimestamp;
}

/** What the last read-back found a channel showing for a SKU (see migration 0005). */
export interface ChannelReadTable {
  channel_id: string;
  sku: string;
  shown: number;
  read_at: Timestamp;
}

/** One drift found by a read-back, and the push that healed it (see migration 0005). */
export interface ChannelDriftTable {
  id: Generated<number>;
  channel_id: string;
  sku: string;
  shown: number;
  expected: number;
  /** bigint, read as a JS number. */
  ledger_version: number;
  read_at: Timestamp;
  pushed_quantity: number | null;
  pushed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: DefaultTimestamp;
}

/** The ledger's tables, as Kysely sees them. */
export interface LedgerSchema {
  stock: StockTable;
  processed_event: ProcessedEventTable;
  oversell: OversellTable;
  audit: AuditTable;
  rejected_line: RejectedLineTable;
  channel_state: ChannelStateTable;
  connector_state: ConnectorStateTable;
  order_line: OrderLineTable;
  channel_lease: ChannelLeaseTable;
  channel_read: ChannelReadTable;
  channel_drift: ChannelDriftTable;
}
