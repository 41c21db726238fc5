import { randomBytes } from 'node:crypto';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, failIfAny, skip } from '../check-outcome.ts';
import { describeOutcome, describeResult, matchResults, preview, pushOutcome } from '../push-outcome.ts';
import { requireInstance } from './push-checks.ts';

/**
 * A connector that declares a bulk lane implements `pushBulk`, and one job of listed SKUs plus one the
 * channel does not list answers one result per item: ok for each listed SKU (shown by the simulator once
 * the job is done), `not_listed` or `rejected` for the other, never ok. A `pushBulk` without the declared
 * lane is never called by the host, which is a mistake worth a failure too.
 */
export async function checkBulkLane(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const bulk = env.definition.capabilities.bulk;
  const instance = requireInstance(env);
  if (!bulk) {
    if (typeof instance.pushBulk === 'function') fail('the instance has pushBulk but capabilities.bulk is not declared: the host never calls it');
    skip('the instance has no bulk lane (capabilities.bulk)');
  }
  if (typeof instance.pushBulk !== 'function') fail('capabilities.bulk is declared but the instance has no pushBulk');
  const listed = env.knownSkus.slice(0, Math.max(1, Math.min(5, bulk.maxBatchSize - 1)));
  const unknown = `CONF-UNLISTED-${randomBytes(4).toString('hex')}`;
  const updates = env.updates(bulk.maxBatchSize > listed.length ? [...listed, unknown] : listed);
  const outcome = await pushOutcome(instance, updates, signal, 'bulk');
  if (outcome.kind === 'threw') fail(`pushBulk ${describeOutcome(outcome)}, expected one result per item`);
  const { bySku, problems } = matchResults(updates, outcome.results);
  const wrong: string[] = [];
  for (const update of updates) {
    const result = bySku.get(update.sku);
    if (!result) continue;
    if (update.sku === unknown) {
      if (result.status === 'ok') wrong.push(`${unknown} (not listed) reported ok`);
    } else if (result.status !== 'ok') {
      wrong.push(`${update.sku}: ${describeResult(result)}`);
    } else if (env.simulator && env.simulator.shown(update.sku) !== update.quantity) {
      wrong.push(`${update.sku} shows ${String(env.simulator.shown(update.sku))}, pushed ${update.quantity}`);
    }
  }
  if (wrong.length > 0) problems.push(preview(wrong, 3));
  failIfAny(problems);
  return `a job of ${updates.length} items answered one result each in ${Math.round(outcome.ms)} ms`;
}
