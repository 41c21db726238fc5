import { randomBytes } from 'node:crypto';
import type { ConnectorInstance, StockUpdate } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, failIfAny, skip } from '../check-outcome.ts';
import { batchLimit, describeOutcome, describeResult, matchResults, preview, pushInBatches, pushOutcome, type PushOutcome } from '../push-outcome.ts';

/** The instance under test; skips the check when `create` failed (that failure is reported once, by the create check). */
export function requireInstance(env: CheckEnvironment): ConnectorInstance {
  if (env.knownSkus.length === 0) skip('needs SKUs the channel lists: pass `skus` when running against a provided endpoint');
  return env.instance ?? skip('needs the instance `create` makes, and create failed');
}

/** Problems with an outcome that should be `ok` for every update, and with what the simulator shows afterwards. */
export function problemsWithOkPush(env: CheckEnvironment, updates: readonly StockUpdate[], outcome: PushOutcome): string[] {
  if (outcome.kind === 'threw') return [`push ${describeOutcome(outcome)}, expected ok for every item`];
  const { bySku, problems } = matchResults(updates, outcome.results);
  const notOk: string[] = [];
  const notShown: string[] = [];
  for (const update of updates) {
    const result = bySku.get(update.sku);
    if (result && result.status !== 'ok') notOk.push(`${update.sku}: ${describeResult(result)}`);
    if (result?.status === 'ok' && env.simulator) {
      const shown = env.simulator.shown(update.sku);
      if (shown !== update.quantity) notShown.push(`${update.sku} shows ${String(shown)}, pushed ${update.quantity}`);
    }
  }
  if (notOk.length > 0) problems.push(`expected ok, got ${preview(notOk, 3)}`);
  if (notShown.length > 0) problems.push(`ok was reported but the simulator disagrees: ${preview(notShown, 3)}`);
  return problems;
}

/** A push of a few listed SKUs (one of them sold out) returns ok for each, and the channel shows each quantity. */
export async function checkPushSets(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const updates = env.updates(env.knownSkus.slice(0, 3));
  // Sold out is the quantity that matters most in a flash sale, and a falsy one.
  const last = updates[updates.length - 1];
  if (last) last.quantity = 0;
  const outcome = await pushInBatches(instance, updates, env.definition.capabilities.maxBatchSize, signal);
  failIfAny(problemsWithOkPush(env, updates, outcome));
  return `${updates.length} items ok${env.simulator ? ', the simulator shows each pushed quantity' : ''}`;
}

/**
 * A push of exactly `maxBatchSize` SKUs gets one ok result per item; one more SKU than that is refused
 * as a whole (RejectedError / RetryableError) or item by item, but never silently shortened.
 */
export async function checkBatchMaximum(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const max = env.definition.capabilities.maxBatchSize;
  const skus = env.batchSkus ?? skip(env.simulator ? `maxBatchSize ${max} is more SKUs than the simulator is asked to list` : `needs ${max + 1} listed SKUs, which only a simulator provides`);
  const full = env.updates(skus.slice(0, max));
  const fullProblems = problemsWithOkPush(env, full, await pushOutcome(instance, full, signal));
  if (fullProblems.length > 0) fail(`a push of exactly maxBatchSize (${max}) items: ${fullProblems.join('; ')}`);

  const over = env.updates(skus);
  const outcome = await pushOutcome(instance, over, signal);
  if (outcome.kind === 'threw') {
    if (outcome.thrown === 'other') fail(`a push of ${max + 1} items ${describeOutcome(outcome)}: throw RejectedError (or return per-item results) instead`);
    return `${max} items ok; ${max + 1} refused as a whole (${describeOutcome(outcome)})`;
  }
  const { bySku, problems } = matchResults(over, outcome.results);
  const lies: string[] = [];
  for (const update of over) {
    const result = bySku.get(update.sku);
    if (result?.status === 'ok' && env.simulator && env.simulator.shown(update.sku) !== update.quantity) lies.push(update.sku);
  }
  if (lies.length > 0) problems.push(`ok reported but not shown by the simulator for ${preview(lies, 3)}`);
  if (problems.length > 0) fail(`a push of maxBatchSize + 1 (${max + 1}) items: ${problems.join('; ')}`);
  return `${max} items ok; ${max + 1} items each accounted for (${describeOutcome(outcome)})`;
}

/**
 * One SKU the channel does not list is refused on its own, as `not_listed` (the host stops pushing it,
 * without a dead letter) or `rejected`; the other items of the same push still succeed.
 */
export async function checkPerItemResults(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const unknown = `CONF-UNLISTED-${randomBytes(4).toString('hex')}`;
  // Known SKUs share the push with the unknown one as far as the batch maximum allows.
  const companions = env.knownSkus.slice(0, Math.min(2, batchLimit(env.definition.capabilities.maxBatchSize) - 1));
  const updates = env.updates([...companions.slice(0, 1), unknown, ...companions.slice(1)]);
  const outcome = await pushOutcome(instance, updates, signal);
  if (outcome.kind === 'threw' && updates.length === 1 && outcome.thrown === 'rejected') {
    return `maxBatchSize 1: the unknown SKU, pushed alone, was refused (${describeOutcome(outcome)})`;
  }
  if (outcome.kind === 'threw') {
    fail(`one unknown SKU made the whole push fail: ${describeOutcome(outcome)}; return { status: 'not_listed' } for that item and ok for the others`);
  }
  const known = updates.filter((u) => u.sku !== unknown);
  const problems = problemsWithOkPush(env, known, { ...outcome, results: outcome.results.filter((r) => r?.sku !== unknown) });
  const { bySku, problems: matching } = matchResults(updates, outcome.results);
  if (matching.some((p) => p.includes(unknown))) problems.push(...matching.filter((p) => p.includes(unknown)));
  failIfAny(problems);
  const result = bySku.get(unknown);
  if (result?.status === 'rejected' || result?.status === 'not_listed') {
    return `unknown SKU ${result.status} (${result.reason})${updates.length > 1 ? '; the others in the same push ok' : ', pushed alone (maxBatchSize 1)'}`;
  }
  if (result?.status === 'ok' && env.simulator?.shown(unknown) === updates.find((u) => u.sku === unknown)?.quantity) {
    skip('the simulator created a listing for a SKU it was not started with, so a per-item refusal cannot be provoked; make the simulator refuse unlisted SKUs');
  }
  fail(`unknown SKU "${unknown}" got ${describeResult(result)}: an item the channel does not list must be not_listed or rejected (a retry would repeat forever)`);
}
