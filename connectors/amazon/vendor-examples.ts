import { readFileSync } from 'node:fs';
import type { GetOrderResponse, OrderChangeNotification } from './api.ts';

/**
 * Amazon's own examples, from the schemas and models kept under test/fixtures/vendor/amazon (see its SOURCE): the
 * simulator builds what it sends from these, filling in ids and quantities, so it never emits a shape Amazon does not.
 */
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/vendor/amazon/${name}`, import.meta.url), 'utf8'));

let notification: OrderChangeNotification | undefined;
let order: GetOrderResponse | undefined;

/** A fresh copy of the ORDER_CHANGE example of schemas/notifications/OrderChangeNotification.json. */
export function orderChangeExample(): OrderChangeNotification {
  notification ??= (fixture('OrderChangeNotification.json') as { examples: OrderChangeNotification[] }).examples[0];
  if (!notification) throw new Error('amazon simulator: the ORDER_CHANGE schema fixture holds no example');
  return structuredClone(notification);
}

/** A fresh copy of the `getOrder` 200 example of models/orders-api-model/orders_2026-01-01.json. */
export function getOrderExample(): GetOrderResponse {
  if (!order) {
    const model = fixture('orders_2026-01-01.getOrder.json') as {
      paths: Record<string, { get: { responses: { '200': { examples: { 'application/json': GetOrderResponse } } } } }>;
    };
    order = model.paths['/orders/2026-01-01/orders/{orderId}']?.get.responses['200'].examples['application/json'];
    if (!order) throw new Error('amazon simulator: the Orders 2026-01-01 fixture holds no getOrder example');
  }
  return structuredClone(order);
}

let feedSchema: Record<string, unknown> | undefined;

/** Amazon's JSON_LISTINGS_FEED schema (schemas/feeds/listings-feed-schema-v2.json), against which uploaded feeds are judged. */
export function listingsFeedSchema(): Record<string, unknown> {
  feedSchema ??= fixture('listings-feed-schema-v2.json') as Record<string, unknown>;
  return feedSchema;
}
