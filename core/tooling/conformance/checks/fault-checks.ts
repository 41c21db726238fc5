import type { SimulatorFault, SimulatorHandle } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, failIfAny, skip } from '../check-outcome.ts';
import { withFault } from '../fault-injection.ts';
import { unrecognisedBecause } from '../error-recognition.ts';
import { batchLimit, describeOutcome, describeResult, matchResults, preview, pushInBatches, pushOutcome } from '../push-outcome.ts';
import { problemsWithOkPush, requireInstance } from './push-checks.ts';

const THROTTLE_RETRY_AFTER_MS = 1500;

function requireSimulator(env: CheckEnvironment): SimulatorHandle {
  return env.simulator ?? skip('needs the simulator to inject the fault');
}

/** Longest the throttle check waits, after the fault clears, for the connector to push successfully again. */
const RECOVERY_SLACK_MS = 3000;
const RECOVERY_POLL_MS = 100;

/**
 * While the channel throttles, a push says "retry later" with a delay, as a whole or for every item;
 * once the throttling stops and the delay has passed, pushes succeed again (a connector may pace
 * itself by what the channel said, but must not stay stuck).
 */
export async function checkThrottle(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const simulator = requireSimulator(env);
  const limit = env.definition.capabilities.maxBatchSize;
  const updates = env.updates(env.knownSkus.slice(0, 2));
  const outcome = await withFault(simulator, { kind: 'throttle', retryAfterMs: THROTTLE_RETRY_AFTER_MS }, () => pushInBatches(instance, updates, limit, signal));
  let waitMs: number;
  let said: string;
  if (outcome.kind === 'threw') {
    if (outcome.thrown !== 'throttled' && outcome.thrown !== 'retryable') {
      const because = unrecognisedBecause(outcome.error);
      fail(`${describeOutcome(outcome)}: throw ThrottledError with retryAfterMs${because ? `; ${because}` : ''}`);
    }
    if (!(typeof outcome.retryAfterMs === 'number' && outcome.retryAfterMs > 0)) {
      fail(`${describeOutcome(outcome)} without retryAfterMs > 0: pass the channel's Retry-After so the host waits as long as asked`);
    }
    waitMs = outcome.retryAfterMs;
    said = `${describeOutcome(outcome)}, retryAfterMs ${outcome.retryAfterMs}`;
  } else {
    const { bySku, problems } = matchResults(updates, outcome.results);
    let longest = 0;
    for (const update of updates) {
      const result = bySku.get(update.sku);
      if (!result) continue;
      if (result.status !== 'retry') problems.push(`${update.sku}: ${describeResult(result)}, expected retry`);
      else if (!(typeof result.afterMs === 'number' && result.afterMs > 0)) problems.push(`${update.sku}: retry without afterMs > 0`);
      else longest = Math.max(longest, result.afterMs);
    }
    failIfAny(problems);
    waitMs = longest;
    said = 'every item retry with afterMs > 0';
  }

  // The host waits as long as it was told; the connector must then push again.
  const deadline = performance.now() + Math.min(waitMs, THROTTLE_RETRY_AFTER_MS * 2) + RECOVERY_SLACK_MS;
  const started = performance.now();
  for (;;) {
    const retried = env.updates(env.knownSkus.slice(0, 2));
    const after = await pushInBatches(instance, retried, limit, signal);
    const problems = problemsWithOkPush(env, retried, after);
    if (problems.length === 0) return `${said}; pushes succeed again ${Math.round(performance.now() - started)} ms after the throttling stopped`;
    if (performance.now() >= deadline || signal.aborted) fail(`${said}, but ${Math.round(performance.now() - started)} ms after the throttling stopped pushes still fail: ${problems.join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, RECOVERY_POLL_MS));
  }
}

/** While the channel is down, a push is retryable: never ok (nothing was written), never rejected (nothing is wrong with the items). */
export async function checkOutage(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  return checkRetryableFailure(env, signal, { kind: 'down' }, 'an outage');
}

/** While the channel answers 5xx, a push is retryable, exactly as in an outage. */
export async function checkServerError(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  return checkRetryableFailure(env, signal, { kind: 'server-error', status: 500 }, 'a 500 answer');
}

async function checkRetryableFailure(env: CheckEnvironment, signal: AbortSignal, fault: SimulatorFault, what: string): Promise<string> {
  const instance = requireInstance(env);
  const simulator = requireSimulator(env);
  const updates = env.updates(env.knownSkus.slice(0, 2));
  const outcome = await withFault(simulator, fault, () => pushInBatches(instance, updates, env.definition.capabilities.maxBatchSize, signal));
  if (outcome.kind === 'threw') {
    if (outcome.thrown === 'retryable' || outcome.thrown === 'throttled') return describeOutcome(outcome);
    const because = unrecognisedBecause(outcome.error);
    fail(`${describeOutcome(outcome)}: ${what} must throw RetryableError (its code decides retry vs dead-letter)${because ? `; ${because}` : ''}`);
  }
  const { bySku, problems } = matchResults(updates, outcome.results);
  const wrong = updates.map((u) => bySku.get(u.sku)).filter((r) => r !== undefined && r.status !== 'retry');
  if (wrong.length > 0) problems.push(`expected retry for every item, got ${preview(wrong.map((r) => `${r.sku}: ${describeResult(r)}`), 3)}`);
  failIfAny(problems);
  return 'every item retry';
}

/** Pushes to a channel that never answers are aborted after this long... */
const HANG_ABORT_AFTER_MS = 100;
/** ...and must settle within this long of the abort: enough for a busy machine, far below any timeout. */
const HANG_SETTLE_WITHIN_MS = 2000;
/** How long the check waits for a push that does not settle before calling it hung. */
const HANG_GIVE_UP_MS = 6000;

/**
 * An API that accepts the connection and never answers: once the push's signal aborts (the hub's push
 * timeout, a shutdown) the push settles at once, rejecting or saying retry for every item; it never
 * waits for an answer that will not come, and never reports ok for a write that was not answered.
 */
export async function checkHang(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const simulator = requireSimulator(env);
  const updates = env.updates(env.knownSkus.slice(0, Math.min(2, batchLimit(env.definition.capabilities.maxBatchSize))));
  const controller = new AbortController();
  const forward = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  const timers: NodeJS.Timeout[] = [];
  try {
    return await withFault(simulator, { kind: 'hang' }, async () => {
      const started = performance.now();
      timers.push(setTimeout(() => controller.abort(new Error('conformance: the channel never answered')), HANG_ABORT_AFTER_MS));
      const settled = pushOutcome(instance, updates, controller.signal);
      const hung = new Promise<'hung'>((resolve) => timers.push(setTimeout(() => resolve('hung'), HANG_GIVE_UP_MS)));
      const outcome = await Promise.race([settled, hung]);
      const afterAbort = Math.round(performance.now() - started - HANG_ABORT_AFTER_MS);
      if (outcome === 'hung') fail(`push had not settled ${afterAbort} ms after its signal aborted while the channel never answered: pass the signal to every request`);
      if (afterAbort > HANG_SETTLE_WITHIN_MS) fail(`push settled only ${afterAbort} ms after its signal aborted; expected within ${HANG_SETTLE_WITHIN_MS} ms`);
      if (outcome.kind === 'threw') return `rejected ${Math.max(0, afterAbort)} ms after the abort (${describeOutcome(outcome)})`;
      const { bySku, problems } = matchResults(updates, outcome.results);
      const claimed = updates.map((u) => bySku.get(u.sku)).filter((r) => r !== undefined && r.status !== 'retry' && r.status !== 'busy');
      if (claimed.length > 0) problems.push(`the channel answered nothing, yet ${preview(claimed.map((r) => `${r.sku}: ${describeResult(r)}`), 3)}`);
      failIfAny(problems);
      return `every item retry ${Math.max(0, afterAbort)} ms after the abort`;
    });
  } finally {
    for (const timer of timers) clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  }
}

/**
 * Pushing the same quantities twice is harmless; and a write whose answer was lost (connection dropped
 * after the write) converges once the push is retried.
 */
export async function checkIdempotentRePush(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const simulator = requireSimulator(env);
  const updates = env.updates(env.knownSkus.slice(0, 2));
  const problems: string[] = [];
  for (const attempt of ['first', 'second'] as const) {
    const outcome = await pushInBatches(instance, updates, env.definition.capabilities.maxBatchSize, signal);
    problems.push(...problemsWithOkPush(env, updates, outcome).map((p) => `${attempt} push: ${p}`));
  }
  failIfAny(problems);

  const retried = env.updates(env.knownSkus.slice(0, 2));
  const dropped = await withFault(simulator, { kind: 'drop-after-write' }, () => pushInBatches(instance, retried, env.definition.capabilities.maxBatchSize, signal));
  const again = await pushInBatches(instance, retried, env.definition.capabilities.maxBatchSize, signal);
  problems.push(...problemsWithOkPush(env, retried, again).map((p) => `retry after a dropped answer (the dropped push ${describeOutcome(dropped)}): ${p}`));
  failIfAny(problems);
  return 'same push twice: same quantities; a dropped answer converges on retry';
}
