import { describeError } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, skip } from '../check-outcome.ts';
import { batchLimit } from '../push-outcome.ts';
import { requireInstance } from './push-checks.ts';

/**
 * The slow simulator answers every request after this long, so only an abort can end the push sooner. Far
 * above the settle bound below, so a machine busy enough to stall the event loop for a second or more
 * still tells a push that honours its signal from one that waits for the answer.
 */
const SLOW_LATENCY_MS = 4000;
const ABORT_AFTER_MS = 50;
/** How long after the abort the push may take to reject: enough for a busy machine, far below the latency. */
const SETTLE_WITHIN_MS = 2000;

/** A push whose signal aborts while the channel is slow to answer rejects at once instead of waiting for the answer. */
export async function checkAbort(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  requireInstance(env);
  if (!env.simulator || !env.simulatorOptions) skip('needs a simulator with added latency');
  const slow = await env.startSimulator({ ...env.simulatorOptions, port: 0, latency: { p50: SLOW_LATENCY_MS, p99: SLOW_LATENCY_MS } });
  const instance = await env.createInstance(slow.connectorOptions(env.knownSkus) as Record<string, unknown>);

  const controller = new AbortController();
  const forward = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  const timers: NodeJS.Timeout[] = [];
  try {
    // Whether the push settled before or after its abort is read from the abort itself, not from elapsed
    // time: a timer counts from the event loop's cached time and can fire early on a busy machine.
    let abortedAt: number | undefined;
    timers.push(
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort(new Error('conformance: push aborted'));
      }, ABORT_AFTER_MS),
    );
    const settled = instance.push(env.updates(env.knownSkus.slice(0, Math.min(2, batchLimit(env.definition.capabilities.maxBatchSize)))), controller.signal).then(
      () => ({ kind: 'resolved' as const, at: performance.now(), abortedAt }),
      (error: unknown) => ({ kind: 'rejected' as const, error, at: performance.now(), abortedAt }),
    );
    const hangMs = SLOW_LATENCY_MS * 3;
    const hung = new Promise<{ kind: 'hung'; at: number; abortedAt: number | undefined }>((resolve) =>
      timers.push(setTimeout(() => resolve({ kind: 'hung', at: performance.now(), abortedAt }), hangMs)),
    );
    const outcome = await Promise.race([settled, hung]);
    if (outcome.abortedAt === undefined) {
      if (outcome.kind === 'rejected') fail(`push rejected before its signal aborted (${describeError(outcome.error)}), so the abort could not be observed`);
      if (outcome.kind === 'resolved') fail(`push resolved before its signal aborted, although the channel answers only after ${SLOW_LATENCY_MS} ms`);
    }
    const afterAbort = Math.round(outcome.at - (outcome.abortedAt ?? outcome.at));
    if (outcome.kind === 'hung') fail(`push had not settled ${afterAbort} ms after its signal aborted: pass the signal to every request and sleep`);
    if (outcome.kind === 'resolved') fail(`push resolved ${afterAbort} ms after its signal aborted (the channel answers after ${SLOW_LATENCY_MS} ms): it must reject when the signal aborts`);
    if (afterAbort > SETTLE_WITHIN_MS) fail(`push rejected only ${afterAbort} ms after its signal aborted; expected within ${SETTLE_WITHIN_MS} ms`);
    return `rejected ${afterAbort} ms after the abort (${describeError(outcome.error)})`;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  }
}
