import type { PushResult, SimulatorFault } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, failIfAny, skip } from '../check-outcome.ts';
import { withFault } from '../fault-injection.ts';
import { batchLimit, describeOutcome, describeResult, matchResults, pushOutcome } from '../push-outcome.ts';
import { problemsWithOkPush, requireInstance } from './push-checks.ts';

interface ItemFaultCase {
  kind: Extract<SimulatorFault['kind'], 'item-unknown' | 'item-locked'>;
  /** Per-item statuses the contract allows for the faulted item. */
  expected: ReadonlyArray<PushResult['status']>;
  /** Whole-push throws (by thrown kind) allowed when the faulted item was pushed alone. */
  aloneMayThrow: ReadonlyArray<'rejected' | 'retryable' | 'throttled'>;
  why: string;
}

/**
 * Sets a per-item fault on one listed SKU and pushes it together with another listed SKU: the faulted
 * item must come back with one of the expected statuses, the other one ok.
 */
async function checkItemFault(env: CheckEnvironment, signal: AbortSignal, spec: ItemFaultCase): Promise<string> {
  const instance = requireInstance(env);
  const simulator = env.simulator ?? skip('needs the simulator to inject the fault');
  // The faulted SKU is one no other check pushes: a connector may remember it as unknown or locked.
  const target = env.itemFaultSkus[spec.kind === 'item-unknown' ? 0 : 1] ?? skip('needs listed SKUs of its own, which only a simulator provides');
  const companion = env.knownSkus[0];
  const skus = batchLimit(env.definition.capabilities.maxBatchSize) >= 2 && companion !== undefined ? [target, companion] : [target];
  const updates = env.updates(skus);
  const outcome = await withFault(simulator, { kind: spec.kind, skus: [target] }, () => pushOutcome(instance, updates, signal));
  if (outcome.kind === 'threw') {
    if (skus.length === 1 && outcome.thrown !== 'other' && spec.aloneMayThrow.includes(outcome.thrown)) return `pushed alone (maxBatchSize 1): ${describeOutcome(outcome)}`;
    fail(`one ${spec.kind === 'item-unknown' ? 'unknown' : 'locked'} item made the whole push fail: ${describeOutcome(outcome)}; return ${spec.expected.map((s) => `{ status: '${s}' }`).join(' or ')} for that item and ok for the others`);
  }
  const { bySku, problems } = matchResults(updates, outcome.results);
  const others = updates.filter((u) => u.sku !== target);
  problems.push(...problemsWithOkPush(env, others, { ...outcome, results: outcome.results.filter((r) => r?.sku !== target) }).filter((p) => !p.includes('no result for') && !p.includes('which was not pushed')));
  const result = bySku.get(target);
  if (result && !spec.expected.includes(result.status)) problems.push(`${target} got ${describeResult(result)}; expected ${spec.expected.join(' or ')}: ${spec.why}`);
  failIfAny(problems);
  return `${target} ${describeResult(result)}${others.length > 0 ? '; the other item in the same push ok' : ''}`;
}

/** The channel answers "no such listing/offer/variant" for one item: `not_listed` (preferred) or `rejected`, never retried. */
export function checkItemUnknown(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  return checkItemFault(env, signal, {
    kind: 'item-unknown',
    expected: ['not_listed', 'rejected'],
    aloneMayThrow: ['rejected'],
    why: 'an item the channel does not know is not worth another try (not_listed stops pushing it without a dead letter)',
  });
}

/** The channel answers "locked / being edited" for one item: `busy` (preferred, spends no attempt) or `retry`. */
export function checkItemLocked(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  return checkItemFault(env, signal, {
    kind: 'item-locked',
    expected: ['busy', 'retry'],
    aloneMayThrow: ['retryable', 'throttled'],
    why: 'a locked item is fine a moment later, so refusing it for good would dead-letter a good update',
  });
}
