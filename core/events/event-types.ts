/** The four inbound commands. Each travels on `<prefix>.in.<type>` with `Nats-Msg-Id` = `id`. */
export const EVENT_TYPES = ['order.confirmed', 'order.cancelled', 'stock.adjusted', 'stock.set'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

interface EventBase {
  /** Stable idempotency key, e.g. `shopify-main:order:1234:confirmed`. */
  id: string;
  /** The channel id the event came from (or `manual`, `import`...). */
  channel: string;
  /** ISO 8601 time the change happened at the source; sync lag is measured from here. */
  occurredAt: string;
  /** Free-form reference for people (order number, count sheet...). */
  reference?: string;
}

export interface OrderLine {
  sku: string;
  qty: number;
}

export interface OrderConfirmedEvent extends EventBase {
  type: 'order.confirmed';
  orderId?: string;
  lines: OrderLine[];
}

/** A cancelled or returned order: its lines go back to stock. */
export interface OrderCancelledEvent extends EventBase {
  type: 'order.cancelled';
  orderId?: string;
  lines: OrderLine[];
}

export interface StockAdjustedEvent extends EventBase {
  type: 'stock.adjusted';
  lines: Array<{ sku: string; delta: number }>;
}

export interface StockSetEvent extends EventBase {
  type: 'stock.set';
  lines: Array<{ sku: string; quantity: number }>;
}

export type InventoryEvent = OrderConfirmedEvent | OrderCancelledEvent | StockAdjustedEvent | StockSetEvent;
