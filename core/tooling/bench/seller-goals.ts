import { formatCount, formatMs, formatNumber } from '../../human-format.ts';
import type { GoalCheck, ScenarioResult } from './scenario-types.ts';

/** The flash-sale goals a run is held to (issue "Goals"); sync lag is held to the run's own `targetP99Ms`. */
export const SELLER_GOALS = Object.freeze({
  /** Oversold units / units sold. */
  oversoldRatio: 0.001,
  /** Phantom episode p99 on every channel class, ms. */
  phantomP99Ms: 1_000,
  /** Time to zero p99 over every channel, ms. */
  timeToZeroP99Ms: 1_000,
  /** Held-back units / the physical bound, on one-SKU-per-call channels (each channel). */
  oneSkuBoundRatio: 1.5,
  /** Held-back units / units the rules allowed, on batching channels (each channel). */
  batchingHeldBackShare: 0.02,
  /** The ledger alone: committed order lines per second, at least. */
  ledgerLinesPerSecond: 15_000,
  /** The ledger alone: event → commit p99, ms. */
  ledgerCommitP99Ms: 50,
});

type Measured = Omit<ScenarioResult, 'goals' | 'pass' | 'verdict'>;

const pct = (ratio: number | null): string => (ratio === null ? '—' : `${(ratio * 100).toFixed(ratio < 0.01 ? 3 : 2)} %`);
const check = (goal: string, measured: string, value: number | null, limit: number, atMost: boolean): GoalCheck => ({
  goal,
  measured,
  value,
  limit,
  met: value === null ? null : atMost ? value <= limit : value >= limit,
});

/**
 * Each goal of the run, met or missed with its numbers. With channels: oversold share, and per channel
 * class sync lag p99, phantom p99 and hidden units (against the bound on one-SKU channels, against the
 * stock on batching ones), and time to zero. Without channels (the ledger alone): lines/s and commit p99.
 */
export function checkSellerGoals(result: Measured): GoalCheck[] {
  const g = SELLER_GOALS;
  if (result.channels.length === 0) {
    return [
      check(`order lines/s ≥ ${formatCount(g.ledgerLinesPerSecond)}`, `${formatCount(result.lineRate)} lines/s at ${formatCount(result.offeredRate)} orders/s offered`, result.lineRate, g.ledgerLinesPerSecond, false),
      check(`event → commit p99 ≤ ${formatMs(g.ledgerCommitP99Ms)}`, formatMs(result.eventToCommit.p99), result.eventToCommit.p99, g.ledgerCommitP99Ms, true),
    ];
  }
  const goals: GoalCheck[] = [check(`oversold ≤ ${pct(g.oversoldRatio)} of units sold`, `${formatCount(result.oversoldUnits)} of ${formatCount(result.unitsSold)} units (${pct(result.oversoldRatio)})`, result.unitsSold > 0 ? result.oversoldRatio : null, g.oversoldRatio, true)];
  const target = result.options.targetP99Ms;
  for (const c of result.classes) {
    // The floor says whether the channel's pace could meet the target at all on this run's changes.
    const floor = c.lagFloor?.p99 ?? null;
    goals.push({
      ...check(`sync lag p99 ≤ ${formatMs(target)}, ${c.class} channels`, `${formatMs(c.lag.p99)} over ${c.channels.length} channel(s)${floor === null ? '' : `; floor at this pace ${formatMs(floor)}`}`, c.lag.p99, target, true),
      floor,
    });
    goals.push(check(`phantom stock p99 ≤ ${formatMs(g.phantomP99Ms)}, ${c.class} channels`, `${formatMs(c.phantomEpisodes.p99)} (${formatCount(c.phantomEpisodes.count)} episodes, ${formatNumber(c.phantomUnitSeconds)} unit-s)`, c.phantomEpisodes.count === 0 ? 0 : c.phantomEpisodes.p99, g.phantomP99Ms, true));
    if (c.maxBatchSize === 1 && c.heldBackUnitSeconds === 0) {
      // The bound says how little a channel must hide to never show more than will be left; a channel that
      // holds nothing back (no forecast, no reserve) is not trying to, so the goal has nothing to judge.
      goals.push({ goal: `held-back units ≤ ${g.oneSkuBoundRatio}× the bound, ${c.class} channels`, measured: 'nothing held back (no forecast or reserve on these channels): not applicable', value: null, limit: g.oneSkuBoundRatio, met: null });
    } else if (c.maxBatchSize === 1) {
      goals.push(check(`held-back units ≤ ${g.oneSkuBoundRatio}× the bound, ${c.class} channels`, c.worstBoundRatio === null ? 'no bound (nothing sold)' : `worst channel ${formatNumber(c.worstBoundRatio)}×, median ${formatNumber(c.medianBoundRatio)}×`, c.worstBoundRatio, g.oneSkuBoundRatio, true));
    } else {
      goals.push(check(`held-back units ≤ ${pct(g.batchingHeldBackShare)} of stock, ${c.class} channels`, `worst channel ${pct(c.worstHeldBackShare)} (all hidden: ${pct(c.worstHiddenShare)})`, c.worstHeldBackShare, g.batchingHeldBackShare, true));
    }
  }
  goals.push(check(`time to zero p99 ≤ ${formatMs(g.timeToZeroP99Ms)}`, formatMs(result.timeToZero.p99), result.timeToZero.p99, g.timeToZeroP99Ms, true));
  return goals;
}
