import type { InventoryEvent } from '../events/event-types.ts';
import { parseEvent } from '../events/validate-event.ts';

/** What the ingress makes of a connector's webhook result: events it may publish, or why none. */
export type CheckedWebhookEvents = { ok: true; events: InventoryEvent[] } | { ok: false; reason: string };

/** Most events one webhook request may carry; no channel sends more than a few per delivery. */
export const MAX_EVENTS_PER_WEBHOOK = 100;

/**
 * Checks what a connector returned for one webhook before anything of it is published. Every event must
 * pass the published event schemas (as the ledger will see it: after a JSON round trip), belong to the
 * channel the request came in on (`channel` and an id prefixed `<channel>:`, so no channel can take
 * another's event ids), and be an order event: stock is set and adjusted by the operator, never by a
 * webhook. One bad event refuses the whole request, so the channel sees the refusal and a request is
 * never half-applied.
 *
 * The events returned are the parsed copies: what is published is exactly what was checked.
 */
export function checkWebhookEvents(channelId: string, events: unknown): CheckedWebhookEvents {
  if (!Array.isArray(events)) return { ok: false, reason: 'the connector returned no event list' };
  if (events.length > MAX_EVENTS_PER_WEBHOOK) return { ok: false, reason: `the request carries ${events.length} events (at most ${MAX_EVENTS_PER_WEBHOOK})` };
  const checked: InventoryEvent[] = [];
  for (const [i, event] of events.entries()) {
    const one = checkOrderEvent(channelId, event);
    if (!one.ok) return { ok: false, reason: `event ${i}: ${one.reason}` };
    checked.push(one.event);
  }
  return { ok: true, events: checked };
}

/**
 * Checks one order event a connector made (from a webhook, or a page of its orders API): it must pass the
 * published event schemas after a JSON round trip, belong to `channelId` (`channel`, and an id prefixed
 * `<channel>:`), and be an order event. Returns the parsed copy, which is what may be published.
 */
export function checkOrderEvent(channelId: string, event: unknown): { ok: true; event: InventoryEvent } | { ok: false; reason: string } {
  let text: string | undefined;
  try {
    text = JSON.stringify(event);
  } catch {
    text = undefined;
  }
  if (text === undefined) return { ok: false, reason: 'is not JSON data' };
  const parsed = parseEvent(text);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const { event: valid } = parsed;
  if (valid.channel !== channelId) return { ok: false, reason: `names channel ${JSON.stringify(valid.channel)}, not "${channelId}"` };
  if (!valid.id.startsWith(`${channelId}:`)) return { ok: false, reason: `its id must start with "${channelId}:"` };
  if (valid.type !== 'order.confirmed' && valid.type !== 'order.cancelled' && valid.type !== 'order.returned') return { ok: false, reason: `a channel's events may not carry ${valid.type}` };
  return { ok: true, event: valid };
}
