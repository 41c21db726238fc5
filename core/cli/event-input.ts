import { randomUUID } from 'node:crypto';
import type { InventoryEvent } from '../events/event-types.ts';
import { UsageError } from '../internal.ts';

/** Parses `SKU:QTY` arguments (`--line A-1:2`), naming the offending argument when malformed. */
export function parseLines(values: readonly string[], what: 'qty' | 'delta' | 'quantity'): Array<{ sku: string; value: number }> {
  return values.map((raw, index) => {
    const at = raw.lastIndexOf(':');
    const sku = raw.slice(0, at);
    const value = Number(raw.slice(at + 1));
    if (at <= 0 || !Number.isInteger(value)) throw new UsageError(`--line #${index + 1} "${raw}": expected SKU:${what.toUpperCase()} with a whole number`);
    return { sku, value };
  });
}

/** A hand-made event: id from the caller or random, `occurredAt` now, channel `manual` unless given. */
export function manualEvent(type: InventoryEvent['type'], lines: Array<{ sku: string; value: number }>, options: { id?: string; channel?: string; orderId?: string }): InventoryEvent {
  const base = { id: options.id ?? `${options.channel ?? 'manual'}:${type}:${randomUUID()}`, channel: options.channel ?? 'manual', occurredAt: new Date().toISOString() };
  switch (type) {
    case 'order.confirmed':
    case 'order.cancelled':
      return { ...base, type, ...(options.orderId ? { orderId: options.orderId } : {}), lines: lines.map((l) => ({ sku: l.sku, qty: l.value })) };
    case 'order.returned':
      // A hand-made return puts every unit back; the channel's own refunds say otherwise per line.
      if (!options.orderId) throw new UsageError('an order.returned event needs --order-id: it restores only what that order took');
      return { ...base, type, orderId: options.orderId, lines: lines.map((l) => ({ sku: l.sku, qty: l.value, restock: l.value })) };
    case 'stock.adjusted':
      return { ...base, type, lines: lines.map((l) => ({ sku: l.sku, delta: l.value })) };
    case 'stock.set':
      return { ...base, type, lines: lines.map((l) => ({ sku: l.sku, quantity: l.value })) };
  }
}
