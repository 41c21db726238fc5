import type { InventoryEvent, OrderLine } from '../../../sdk.ts';

/** Sums quantities per SKU, so `[{a,1},{a,1}]` and `[{a,2}]` compare equal. */
function totals(lines: readonly OrderLine[]): Map<string, number> {
  const bySku = new Map<string, number>();
  for (const line of lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.qty);
  return bySku;
}

export function describeLines(lines: readonly OrderLine[]): string {
  return [...totals(lines)].map(([sku, qty]) => `${sku}×${qty}`).join(', ') || '(none)';
}

/** Problems with an order event: ids, channel, and lines in hub SKUs matching what the shopper bought. */
export function orderEventProblems(event: InventoryEvent, channelId: string, expected: readonly OrderLine[]): string[] {
  const problems: string[] = [];
  if (typeof event.id !== 'string' || event.id === '') problems.push('event without an id');
  if (event.channel !== channelId) problems.push(`event channel is "${String(event.channel)}", expected the channel id "${channelId}"`);
  if (typeof event.occurredAt !== 'string' || Number.isNaN(Date.parse(event.occurredAt))) problems.push(`occurredAt "${String(event.occurredAt)}" is not an ISO time`);
  if (event.type !== 'order.confirmed') return problems;
  const lines = Array.isArray(event.lines) ? event.lines : [];
  const got = totals(lines);
  const want = totals(expected);
  const same = got.size === want.size && [...want].every(([sku, qty]) => got.get(sku) === qty);
  if (!same) problems.push(`lines are ${describeLines(lines)}, the shopper bought ${describeLines(expected)} (hub SKUs)`);
  return problems;
}

/** The order.confirmed events among `events`. */
export function confirmedEvents(events: readonly InventoryEvent[]): InventoryEvent[] {
  return events.filter((e) => e.type === 'order.confirmed');
}

/** True when an event belongs to the channel order `orderId`. */
export function isForOrder(event: InventoryEvent, orderId: string): boolean {
  const own = 'orderId' in event ? event.orderId : undefined;
  return own === orderId || (typeof event.id === 'string' && event.id.includes(orderId));
}
