/** The inbound commands. Each travels on `<prefix>.in.<type>` with `Nats-Msg-Id` = `id`. */
export const EVENT_TYPES = ['order.confirmed', 'order.cancelled', 'order.returned', 'stock.adjusted', 'stock.set'] as const;
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

/** A cancelled order, or some of its lines or units: what those took goes back to stock. */
export interface OrderCancelledEvent extends EventBase {
  type: 'order.cancelled';
  orderId?: string;
  lines: OrderLine[];
}

/** One SKU of a refund or return: units returned, and how many of them the channel put back into stock. */
export interface ReturnLine {
  sku: string;
  qty: number;
  /** Units of `qty` back in stock, 0 to `qty`. */
  restock: number;
}

/**
 * A refund or return of some units of an order, with the channel's restock information: only `restock`
 * units go back, never more than the order line took minus what was already restored.
 */
export interface OrderReturnedEvent extends EventBase {
  type: 'order.returned';
  orderId: string;
  lines: ReturnLine[];
}

export interface StockAdjustedEvent extends EventBase {
  type: 'stock.adjusted';
  lines: Array<{ sku: string; delta: number }>;
}

export interface StockSetEvent extends EventBase {
  type: 'stock.set';
  lines: Array<{ sku: string; quantity: number }>;
}

export type InventoryEvent = OrderConfirmedEvent | OrderCancelledEvent | OrderReturnedEvent | StockAdjustedEvent | StockSetEvent;
