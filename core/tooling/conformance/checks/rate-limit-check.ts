import type { SimulatorOptions } from '../../../sdk.ts';
import { TokenBucket } from '../../../token-bucket.ts';
import { abortableDelay as sleep } from '../../../until-aborted.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, skip } from '../check-outcome.ts';
import { describeOutcome, pushOutcome } from '../push-outcome.ts';
import { requireInstance } from './push-checks.ts';

/** How long the declared rate is kept up after the burst: long enough for a refill rate to show. */
const PACED_FOR_MS = 1500;
/** Most pushes the check makes, so a generous declared rate cannot make it slow. */
const MAX_CALLS = 120;

/**
 * The dispatcher paces a channel at its declared `rateLimit`, so the declaration must not promise more
 * than the channel allows: the check starts the simulator with the channel's own limits (no override),
 * spends the declared burst at once, then keeps pushing at the declared rate for a while. Any throttle
 * means the declared limit is above the enforced one and the hub would be throttled in normal operation.
 */
export async function checkDeclaredRate(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  requireInstance(env);
  if (!env.simulator || !env.simulatorOptions) skip("needs the connector's simulator, started with the channel's own rate limit");
  const { perSecond, burst } = env.definition.capabilities.rateLimit;
  const { rateLimit: _override, ...channelOwn } = env.simulatorOptions;
  const simulator = await env.startSimulator({ ...channelOwn, port: 0 } satisfies SimulatorOptions);
  const instance = await env.createInstance(simulator.connectorOptions(env.knownSkus) as Record<string, unknown>);
  const throttledBefore = simulator.stats().throttled ?? 0;

  const calls = Math.min(MAX_CALLS, Math.ceil(burst + (perSecond * PACED_FOR_MS) / 1000));
  // A client-side bucket with the declared parameters: a call goes out only when the dispatcher would send it.
  // The channel counts a call when it arrives, somewhere between our send and its answer, and latency jitter
  // can bunch two arrivals closer than their sends. So each call is charged at the moment its answer came
  // back and the next is sent only when the bucket allows it now: every window of calls then spans less
  // time here than at the channel, and a channel enforcing exactly the declared rate never throttles.
  const bucket = new TokenBucket(perSecond, burst);
  const started = performance.now();
  for (let call = 1; call <= calls; call++) {
    // A timer counts from the event loop's cached time, which on a busy machine can be well behind the
    // clock read here, so it may fire early: wait again until the bucket really holds a token.
    for (;;) {
      const now = performance.now();
      const waitMs = bucket.nextTokenAt(now) - now;
      if (waitMs <= 0) break;
      await sleep(Math.ceil(waitMs) + 1, signal);
    }
    const sku = env.knownSkus[call % env.knownSkus.length] as string;
    const outcome = await pushOutcome(instance, env.updates([sku]), signal);
    bucket.take(1, performance.now());
    const throttledNow = (simulator.stats().throttled ?? 0) - throttledBefore;
    const answer = outcome.kind === 'threw' && outcome.thrown === 'throttled' ? describeOutcome(outcome) : undefined;
    if (throttledNow > 0 || answer !== undefined) {
      const ms = Math.round(performance.now() - started);
      fail(
        `declared rateLimit ${perSecond}/s burst ${burst} is more than the simulator enforces: call ${call} of ${calls}, ${ms} ms in, ` +
          `${throttledNow > 0 ? `was throttled by the simulator (${throttledNow} throttle answer(s))` : `came back ${answer}`}; declare no more than the channel allows`,
      );
    }
    if (outcome.kind === 'threw') fail(`a paced push ${describeOutcome(outcome)}, so the rate could not be measured`);
  }
  return `${calls} pushes paced at the declared ${perSecond}/s (burst ${burst}) in ${Math.round(performance.now() - started)} ms, none throttled by the channel's own limit`;
}
