import { describe, expect, it } from 'vitest';
import { orderEvent, orderEventId } from '../../connectors/_kit/order-events.ts';

describe('kit order events', () => {
  it('keys an order event by channel, order id and what happened, so every delivery of one fact collapses', () => {
    expect(orderEventId('shopify-main', '1234', 'order.confirmed')).toBe('shopify-main:order:1234:confirmed');
    expect(orderEventId('shopify-main', '1234', 'order.cancelled')).toBe('shopify-main:order:1234:cancelled');
    expect(orderEventId('shopify-main', '1234', 'order.returned', '77')).toBe('shopify-main:order:1234:returned:77');
  });

  it('appends the part for facts a channel reports separately within one order', () => {
    expect(orderEventId('walmart-us', 'PO1', 'order.cancelled', '1,3')).toBe('walmart-us:order:PO1:cancelled:1,3');
  });

  it('builds the event with its key and the channel, and copies the lines', () => {
    const lines = [{ sku: 'A', qty: 2 }];
    const confirmed = orderEvent('etsy-shop', 'order.confirmed', { orderId: '9', occurredAt: '2026-01-01T00:00:00.000Z', lines, reference: '#9' });
    const cancelled = orderEvent('etsy-shop', 'order.cancelled', { orderId: '9', occurredAt: '2026-01-02T00:00:00.000Z', lines });
    expect(confirmed).toEqual({ id: 'etsy-shop:order:9:confirmed', type: 'order.confirmed', channel: 'etsy-shop', occurredAt: '2026-01-01T00:00:00.000Z', orderId: '9', reference: '#9', lines });
    expect(cancelled).not.toHaveProperty('reference');
    expect(cancelled.lines).not.toBe(confirmed.lines);
    expect(cancelled.lines[0]).not.toBe(lines[0]);
  });
});
