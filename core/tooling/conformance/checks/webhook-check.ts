import { describeError, ErrorCodes, type InventoryEvent, type OrderLine, type WebhookRequest } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, failIfAny, skip } from '../check-outcome.ts';
import { signatureHeaderNames, tamperSignature } from '../signature-headers.ts';
import { startWebhookCapture, type CapturedWebhook } from '../webhook-capture.ts';
import { confirmedEvents, orderEventProblems } from './order-events.ts';
import { requireInstance } from './push-checks.ts';

/**
 * Order webhooks, end to end: a genuine delivery becomes order events with stable ids, hub SKUs and the
 * channel id; the same delivery again gives the same ids; a tampered, truncated or unsigned delivery is
 * refused with WebhookSignatureError; repeated and out-of-order deliveries of one order collapse to one id.
 */
export async function checkWebhook(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const handle = instance.handleWebhook?.bind(instance) ?? skip('the instance has no handleWebhook');
  const simulator = env.simulator ?? skip('needs a simulator that places orders');
  if (!simulator.setWebhookTarget || !simulator.placeOrder) skip('the simulator has no setWebhookTarget/placeOrder');
  const [skuA, skuB] = env.orderSkus as [string, string];
  const capture = await startWebhookCapture(env.channelId);
  env.onClose(capture.close);
  simulator.setWebhookTarget(capture.url);

  const events = async (request: WebhookRequest, label: string): Promise<InventoryEvent[]> => {
    try {
      const outcome = await handle(request, signal);
      return Array.isArray(outcome?.events) ? outcome.events : fail(`${label}: handleWebhook resolved without an events array`);
    } catch (err) {
      if ((err as Error).name === 'CheckFailed') throw err;
      return fail(`${label} was refused: ${describeError(err)}`);
    }
  };

  // One order, one delivery.
  const lines: OrderLine[] = [
    { sku: skuA, qty: 2 },
    { sku: skuB, qty: 1 },
  ];
  capture.take();
  await simulator.placeOrder(lines);
  const deliveries = await capture.settle(1, { signal });
  if (deliveries.length === 0) fail('placeOrder delivered no webhook to the target set with setWebhookTarget');
  const problems: string[] = [];
  let confirmedId: string | undefined;
  let signed: { request: CapturedWebhook; ids: string[] } | undefined;
  for (const [i, request] of deliveries.entries()) {
    const got = await events(request, `genuine delivery ${i + 1}`);
    for (const event of got) problems.push(...orderEventProblems(event, env.channelId, lines));
    for (const event of confirmedEvents(got)) {
      if (confirmedId !== undefined && event.id !== confirmedId) problems.push(`two confirmed ids for one order: ${confirmedId}, ${event.id}`);
      confirmedId ??= event.id;
    }
    if (got.length > 0) signed ??= { request, ids: got.map((e) => e.id) };
    const replay = await events(request, `the same delivery again (${i + 1})`);
    const replayIds = replay.map((e) => e.id);
    if (replayIds.join('\n') !== got.map((e) => e.id).join('\n')) problems.push(`re-delivery gave ids [${replayIds.join(', ')}], first delivery [${got.map((e) => e.id).join(', ')}]`);
  }
  if (confirmedId === undefined || !signed) fail(`no order.confirmed event from ${deliveries.length} delivery(ies) of one order`);
  failIfAny(problems);
  const genuine = signed.request;
  const firstId = confirmedId;

  // Forgeries: every one must be refused before the body is trusted.
  const names = signatureHeaderNames(genuine.headers);
  if (names.length === 0) {
    fail(`no signature header found among [${Object.keys(genuine.headers).join(', ')}]: name it so it contains "signature" or "hmac", or use "authorization"`);
  }
  const forged: Array<[string, WebhookRequest]> = [
    ['signature altered', { ...genuine, headers: { ...genuine.headers, ...Object.fromEntries(names.map((n) => [n, tamperSignature(genuine.headers[n] ?? '')])) } }],
    ['body truncated', { ...genuine, rawBody: genuine.rawBody.subarray(0, Math.floor(genuine.rawBody.length / 2)) }],
    ['signature removed', { ...genuine, headers: Object.fromEntries(Object.entries(genuine.headers).filter(([n]) => !names.includes(n))) }],
  ];
  for (const [label, request] of forged) {
    try {
      const outcome = await handle(request, signal);
      problems.push(`${label}: accepted with ${outcome?.events?.length ?? 0} event(s)`);
    } catch (err) {
      if ((err as { code?: unknown }).code !== ErrorCodes.WEBHOOK_SIGNATURE) problems.push(`${label}: threw ${(err as Error).name ?? 'a value'} (${describeError(err)}), expected WebhookSignatureError`);
    }
  }
  failIfAny(problems);

  // Duplicates and out-of-order deliveries of a second order.
  capture.take();
  await simulator.placeOrder(
    [
      { sku: skuA, qty: 1 },
      { sku: skuB, qty: 3 },
    ],
    { times: 2, outOfOrder: true },
  );
  const repeats = await capture.settle(2, { signal });
  if (repeats.length < 2) fail(`placeOrder with { times: 2 } delivered ${repeats.length} webhook(s)`);
  const ids = new Set<string>();
  for (const [i, request] of repeats.entries()) {
    const confirmed = confirmedEvents(await events(request, `repeated/out-of-order delivery ${i + 1}`));
    if (confirmed.length === 0) problems.push(`delivery ${i + 1} of ${repeats.length} gave no order.confirmed event`);
    for (const event of confirmed) ids.add(event.id);
  }
  if (ids.size > 1) problems.push(`repeated and out-of-order deliveries of one order gave ${ids.size} confirmed ids: ${[...ids].join(', ')}`);
  if (ids.has(firstId)) problems.push(`two different orders gave the same event id ${firstId}`);
  failIfAny(problems);
  return `${deliveries.length} delivery → ${firstId}; replays stable; ${forged.length} forgeries refused (header${names.length > 1 ? 's' : ''} ${names.join(', ')}); ${repeats.length} repeated deliveries → one id`;
}
