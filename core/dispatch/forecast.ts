import type { ChannelRules } from '../config/config-types.ts';
import { shownQuantity, type ForecastNow } from './dispatch-types.ts';

/**
 * A forecast that moved is pushed again only once it moved by at least this share of the units it hides
 * (and at least one unit): a forecast drifts with every sale and every change of the queue, and a slow
 * channel that followed each step would spend its calls on them instead of on the SKUs behind. With one
 * half, a SKU hiding h units is re-pushed about log2(h) times while its sales fade out.
 */
export const FORECAST_HYSTERESIS = 0.5;

/** How often SKUs showing a forecast are looked at again without a ledger change, ms. */
export const FORECAST_RECHECK_MS = 1_000;

/** Every quantity a forecast may show for `available`: from `lowest` (the most it may hide) to `allowed`. */
export function forecastBand(rules: ChannelRules, available: number): { lowest: number; allowed: number } {
  return { lowest: shownQuantity(rules, available, Infinity), allowed: shownQuantity(rules, available) };
}

/**
 * True when a channel showing `shown` shows what its rules and forecast may intend for `available`:
 * exactly what the rules allow, or (forecast on) a quantity within the forecast's band. A read-back
 * finding such a quantity is no drift.
 */
export function showsAsIntended(rules: ChannelRules, available: number, shown: number): boolean {
  const { lowest, allowed } = forecastBand(rules, available);
  return shown >= lowest && shown <= allowed;
}

/**
 * What the channel should show now, given the SKU's sales rate and the time until the channel could
 * refresh it again (clamped to the configured horizon bounds). Undefined when the forecast is off.
 */
export function forecastNow(rules: ChannelRules, available: number, salesPerSecond: number, refreshMs: number): ForecastNow | undefined {
  const forecast = rules.forecast;
  if (!forecast?.enabled) return undefined;
  const horizonMs = Math.min(forecast.maxHorizonMs, Math.max(forecast.minHorizonMs, refreshMs));
  const expectedSales = (Math.max(0, salesPerSecond) * horizonMs) / 1_000;
  return {
    allowed: shownQuantity(rules, available),
    quantity: shownQuantity(rules, available, expectedSales),
    salesPerSecond,
    horizonMs,
    expectedSales,
  };
}

/**
 * True when a channel showing `shown` needs no push to show `target` (the forecast now): the same
 * number, or, with the forecast on, a number within the band that differs from the target by less than
 * the hysteresis. Never true for a number above what the rules allow.
 */
export function forecastHolds(rules: ChannelRules, available: number, shown: number, target: number): boolean {
  if (shown === target) return true;
  if (!rules.forecast?.enabled) return false;
  const { lowest, allowed } = forecastBand(rules, available);
  if (shown > allowed || shown < lowest) return false;
  const slack = Math.max(1, Math.floor(FORECAST_HYSTERESIS * Math.max(allowed - shown, allowed - target)));
  return Math.abs(shown - target) < slack;
}
