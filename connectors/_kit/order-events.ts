import type { OrderCancelledEvent, OrderConfirmedEvent, OrderLine, OrderReturnedEvent } from '../../core/sdk.ts';

/** The two order events a channel reports. */
export type OrderEventType = OrderConfirmedEvent['type'] | OrderCancelledEvent['type'];

/**
 * The idempotency key of an order event: `<channel>:order:<order id>:confirmed|cancelled|returned[:<part>]`.
 * Every delivery of the same fact (a webhook sent twice, a poll that reads the order again, a replay)
 * must yield the same key, so the key is made from the channel's own order id and never from a delivery id
 * or a time. `part` tells apart facts the channel reports separately for one order (Walmart cancels single
 * lines of a purchase order): give the same `part` for the same fact every time.
 */
export function orderEventId(channelId: string, orderId: string, type: OrderEventType | OrderReturnedEvent['type'], part?: string): string {
  const key = `${channelId}:order:${orderId}:${type.slice('order.'.length)}`;
  return part === undefined ? key : `${key}:${part}`;
}

export interface OrderEventFacts {
  /** The channel's order id; the idempotency key is built from it. */
  orderId: string;
  /** When the order was placed (or cancelled), ISO 8601, as the channel says. */
  occurredAt: string;
  lines: readonly OrderLine[];
  /** The order number people see, when it differs from the id. */
  reference?: string;
  /** See {@link orderEventId}. */
  part?: string;
}

/**
 * An order event of `channelId` with its idempotency key. The lines are copied, so a confirmation and a
 * cancellation made from the same list never share objects.
 */
export function orderEvent(channelId: string, type: 'order.confirmed', facts: OrderEventFacts): OrderConfirmedEvent;
export function orderEvent(channelId: string, type: 'order.cancelled', facts: OrderEventFacts): OrderCancelledEvent;
export function orderEvent(channelId: string, type: OrderEventType, facts: OrderEventFacts): OrderConfirmedEvent | OrderCancelledEvent;
export function orderEvent(channelId: string, type: OrderEventType, facts: OrderEventFacts): OrderConfirmedEvent | OrderCancelledEvent {
  return {
    id: orderEventId(channelId, facts.orderId, type, facts.part),
    type,
    channel: channelId,
    occurredAt: facts.occurredAt,
    orderId: facts.orderId,
    ...(facts.reference !== undefined ? { reference: facts.reference } : {}),
    lines: facts.lines.map((line) => ({ sku: line.sku, qty: line.qty })),
  };
}
