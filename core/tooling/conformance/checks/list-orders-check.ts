import type { ConnectorInstance, InventoryEvent, OrderLine, SimulatorHandle } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, failIfAny, skip } from '../check-outcome.ts';
import { startWebhookCapture, type WebhookCapture } from '../webhook-capture.ts';
import { confirmedEvents, isForOrder, orderEventProblems } from './order-events.ts';
import { requireInstance } from './push-checks.ts';

/** How long an order may take to show in the orders API (or a queue) after it was placed. */
const FIND_WITHIN_MS = 5000;
const RETRY_EVERY_MS = 100;
/** Pages one pass may read before the check calls the listing endless. */
const MAX_PAGES = 50;

/**
 * Missed-order catch-up: an order whose notification is lost for good (`placeOrder(…, { drop: true })`)
 * is listed by `listOrders`, as the same event (id, lines, channel) the connector gives an identical order
 * delivered normally, which is listed with exactly its webhook (or poll) id; reading again from an older
 * cursor (a crash before the cursor was stored) finds it under the same id, and an order placed later is
 * found from the cursor the pass returned: nothing falls between two polls.
 */
export async function checkListOrders(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const list = instance.listOrders?.bind(instance) ?? skip('the instance has no listOrders');
  const simulator = env.simulator ?? skip('needs a simulator that places orders');
  const placeOrder = simulator.placeOrder?.bind(simulator) ?? skip('the simulator has no placeOrder');
  let capture: WebhookCapture | undefined;
  if (simulator.setWebhookTarget) {
    capture = await startWebhookCapture(env.channelId);
    env.onClose(capture.close);
    simulator.setWebhookTarget(capture.url);
  }
  const pass = async (cursor: string | undefined): Promise<{ events: InventoryEvent[]; cursor: string | undefined }> => {
    const events: InventoryEvent[] = [];
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page = await list(cursor, signal);
      if (typeof page !== 'object' || page === null || !Array.isArray(page.events)) fail('listOrders resolved without an events array');
      if (typeof page.cursor !== 'string' || page.cursor === '') fail('listOrders resolved without a cursor string');
      if (typeof page.more !== 'boolean') fail('listOrders resolved a page whose "more" is not a boolean');
      events.push(...page.events);
      cursor = page.cursor;
      if (!page.more) return { events, cursor };
    }
    return fail(`listOrders still said "more" after ${MAX_PAGES} pages`);
  };
  const findIn = async (cursor: string | undefined, orderId: string): Promise<{ found: InventoryEvent[]; cursor: string | undefined }> => {
    const deadline = performance.now() + FIND_WITHIN_MS;
    for (;;) {
      const read = await pass(cursor);
      const found = confirmedEvents(read.events).filter((e) => isForOrder(e, orderId));
      if (found.length > 0 || performance.now() > deadline || signal.aborted) return { found, cursor: read.cursor };
      await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
    }
  };

  const [skuA, skuB] = env.orderSkus as [string, string];
  const lines: OrderLine[] = [
    { sku: skuA, qty: 1 },
    { sku: skuB, qty: 1 },
  ];
  const { cursor: start } = await pass(undefined);
  capture?.take();
  await drainQueue(instance, signal);

  // The same order delivered normally: its id is what the listing must give.
  const normal = await placeOrder(lines);
  const reference = await deliveredId(instance, simulator, capture, normal.orderId, signal);
  const dropped = await placeOrder(lines, { drop: true });
  const problems: string[] = [];
  if (capture && (await capture.settle(1, { quietMs: 300, timeoutMs: 600, signal })).length > 0) problems.push('placeOrder with { drop: true } still delivered a webhook');
  if (instance.pollOrders && confirmedEvents(await instance.pollOrders(signal)).some((e) => isForOrder(e, dropped.orderId))) problems.push('placeOrder with { drop: true } still queued the order for pollOrders');

  const first = await findIn(start, dropped.orderId);
  if (first.found.length === 0) fail(`order ${dropped.orderId}, placed with { drop: true }, was not listed within ${FIND_WITHIN_MS} ms`);
  const droppedId = first.found[0]!.id;
  for (const event of first.found) problems.push(...orderEventProblems(event, env.channelId, lines));
  if (new Set(first.found.map((e) => e.id)).size > 1) problems.push(`one pass listed order ${dropped.orderId} under ${first.found.length} ids`);
  if (reference) {
    const listed = confirmedEvents((await findIn(start, normal.orderId)).found);
    if (listed.length === 0) problems.push(`order ${normal.orderId}, delivered normally, was not listed`);
    else if (listed.some((e) => e.id !== reference)) problems.push(`order ${normal.orderId} is listed as ${listed.map((e) => e.id).join(', ')}, delivered as ${reference}`);
    if (reference.includes(normal.orderId) && droppedId !== reference.split(normal.orderId).join(dropped.orderId)) {
      problems.push(`the dropped order is listed as ${droppedId}; an identical order delivered normally is ${reference}`);
    }
  }
  // A crash after the page was published but before its cursor was stored reads from the older cursor again.
  const again = await findIn(start, dropped.orderId);
  if (!again.found.some((e) => e.id === droppedId)) problems.push(`reading again from the earlier cursor did not list ${droppedId} again`);
  // From the cursor the pass returned, an order placed since is found: nothing falls between two polls.
  const later = await placeOrder(lines, { drop: true });
  const next = await findIn(first.cursor, later.orderId);
  if (next.found.length === 0) problems.push(`order ${later.orderId}, placed after the pass, was not listed from the cursor it returned`);
  failIfAny(problems);
  return `dropped order ${dropped.orderId} → ${droppedId}${reference ? ` (delivered: ${reference})` : ''}; re-read from an older cursor and found from the returned one`;
}

/** Empties what earlier checks left in a queue-fed channel's queue. */
async function drainQueue(instance: ConnectorInstance, signal: AbortSignal): Promise<void> {
  if (instance.pollOrders) await instance.pollOrders(signal);
}

/** The confirmed id the connector gives `orderId` delivered normally (webhook or queue), or undefined when it cannot tell. */
async function deliveredId(
  instance: ConnectorInstance,
  simulator: SimulatorHandle,
  capture: WebhookCapture | undefined,
  orderId: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (instance.handleWebhook && capture && simulator.setWebhookTarget) {
    const deliveries = await capture.settle(1, { signal });
    for (const request of deliveries) {
      const outcome = await instance.handleWebhook(request, signal);
      const confirmed = confirmedEvents(outcome?.events ?? []).find((e) => isForOrder(e, orderId));
      if (confirmed) return confirmed.id;
    }
  }
  if (instance.pollOrders) {
    const deadline = performance.now() + FIND_WITHIN_MS;
    while (performance.now() < deadline && !signal.aborted) {
      const confirmed = confirmedEvents(await instance.pollOrders(signal)).find((e) => isForOrder(e, orderId));
      if (confirmed) return confirmed.id;
      await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
    }
  }
  return undefined;
}
