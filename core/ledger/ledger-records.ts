import type { EventType } from '../events/event-types.ts';
import type { OversellRecord, RejectedLine } from './ledger-types.ts';

/** A stored oversell, as listed for people and the read API. */
export interface OversellEntry extends OversellRecord {
  id: number;
  createdAt: Date;
}

/** One audit row: what one event did to one SKU. */
export interface AuditEntry {
  id: number;
  eventId: string;
  eventType: EventType;
  channel: string;
  sku: string;
  before: number;
  after: number;
  version: number;
  /** Units a `stock.adjusted` asked to remove below zero that the ledger ignored (0 when none). */
  clamped: number;
  occurredAt: Date;
  createdAt: Date;
}

/** A stored rejected line, with the quantity it asked for. */
export interface RejectedLineEntry extends RejectedLine {
  id: number;
  qty: number;
  createdAt: Date;
}

export interface ListOptions {
  /** Only rows for this SKU. */
  sku?: string;
  /** At most this many rows, newest first (default 100). */
  limit?: number;
}

export interface ListAuditOptions extends ListOptions {
  /** Only rows caused by events from this channel. */
  channel?: string;
}
