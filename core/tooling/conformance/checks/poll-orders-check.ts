import type { InventoryEvent, OrderLine } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, failIfAny, skip } from '../check-outcome.ts';
import { startWebhookCapture } from '../webhook-capture.ts';
import { confirmedEvents, isForOrder, orderEventProblems } from './order-events.ts';
import { requireInstance } from './push-checks.ts';

const POLL_FOR_MS = 5000;
const POLL_EVERY_MS = 100;

/** An order placed on the channel comes back from `pollOrders` as one confirmed event, and later polls do not add another id for it. */
export async function checkPollOrders(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const poll = instance.pollOrders?.bind(instance) ?? skip('the instance has no pollOrders');
  const simulator = env.simulator ?? skip('needs a simulator that places orders');
  const placeOrder = simulator.placeOrder?.bind(simulator) ?? skip('the simulator has no placeOrder');
  if (simulator.setWebhookTarget) {
    // A channel that also sends webhooks needs somewhere to send them while orders are placed.
    const capture = await startWebhookCapture(env.channelId);
    env.onClose(capture.close);
    simulator.setWebhookTarget(capture.url);
  }
  const [skuA, skuB] = env.orderSkus as [string, string];
  const lines: OrderLine[] = [
    { sku: skuA, qty: 1 },
    { sku: skuB, qty: 2 },
  ];
  await poll(signal); // whatever earlier checks queued is not this check's business
  const { orderId } = await placeOrder(lines);

  let found: InventoryEvent[] = [];
  const deadline = performance.now() + POLL_FOR_MS;
  while (found.length === 0 && performance.now() < deadline && !signal.aborted) {
    found = confirmedEvents(await poll(signal)).filter((e) => isForOrder(e, orderId));
    if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
  }
  if (found.length === 0) fail(`no order.confirmed event for order ${orderId} within ${POLL_FOR_MS} ms of polling (matched by orderId or an id containing it)`);
  const problems = found.flatMap((e) => orderEventProblems(e, env.channelId, lines));
  if (found.length > 1) problems.push(`one poll returned ${found.length} confirmed events for order ${orderId}`);
  const firstId = found[0]?.id;
  const later = confirmedEvents(await poll(signal)).filter((e) => isForOrder(e, orderId));
  const otherIds = later.filter((e) => e.id !== firstId).map((e) => e.id);
  if (otherIds.length > 0) problems.push(`a later poll returned the order under another id: ${otherIds.join(', ')}`);
  failIfAny(problems);
  return `order ${orderId} → ${firstId}${later.length > 0 ? ' (re-read with the same id)' : ''}`;
}
