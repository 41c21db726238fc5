import { describeError, ErrorCodes, type WebhookRequest } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { failIfAny, skip } from '../check-outcome.ts';
import { requireInstance } from './push-checks.ts';

/** Bodies a channel could sign and still send wrong: each is signed exactly as the channel signs. */
const MALFORMED_BODIES: ReadonlyArray<readonly [string, string]> = [
  ['not JSON', '{"order": '],
  ['JSON null', 'null'],
  ['an array', '[1, 2, 3]'],
  ['an empty object', '{}'],
  ['fields of the wrong type', '{"id": {"nested": true}, "order": "A-1", "lines": "two", "quantity": [], "items": 7, "resource": false}'],
  ['a string where an object belongs', '"order"'],
];

/**
 * A webhook that is signed correctly but malformed is the channel's mistake, or a new payload shape:
 * `handleWebhook` refuses it with `WebhookPayloadError` (the ingress answers 400, and the channel stops
 * re-delivering) or takes it as carrying no events; it never throws a TypeError or another unclassified
 * error (answered 503, so the channel re-delivers it forever), and never calls it forged.
 */
export async function checkMalformedWebhook(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const handle = instance.handleWebhook?.bind(instance) ?? skip('the instance has no handleWebhook');
  const simulator = env.simulator ?? skip('needs a simulator that signs webhook bodies');
  const sign = simulator.signWebhook?.bind(simulator) ?? skip('the simulator has no signWebhook');
  const problems: string[] = [];
  let refused = 0;
  for (const [label, body] of MALFORMED_BODIES) {
    const rawBody = Buffer.from(body);
    const headers = Object.fromEntries(Object.entries(sign(rawBody)).map(([name, value]) => [name.toLowerCase(), value]));
    const request: WebhookRequest = { rawBody, headers, path: '', query: {} };
    try {
      const outcome = await handle(request, signal);
      if (!Array.isArray(outcome?.events)) problems.push(`${label}: resolved without an events array`);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === ErrorCodes.WEBHOOK_PAYLOAD) {
        refused += 1;
        continue;
      }
      const name = (err as { name?: unknown } | null)?.name;
      const kind = typeof name === 'string' ? name : 'a value';
      if (code === ErrorCodes.WEBHOOK_SIGNATURE) problems.push(`${label}: refused as forged although signWebhook signed it (${describeError(err)})`);
      else problems.push(`${label}: threw ${kind} (${describeError(err)}); throw WebhookPayloadError for a signed body it cannot read`);
    }
  }
  failIfAny(problems);
  return `${MALFORMED_BODIES.length} signed malformed bodies: ${refused} refused with WebhookPayloadError, ${MALFORMED_BODIES.length - refused} taken as carrying no events`;
}
