/**
 * How many units to hide so that, with probability `confidence`, no more than that many sell before a
 * channel's next refresh lands, when `expected` units are expected to sell by then.
 *
 * Sales are counted as a Poisson process: orders arrive independently at the SKU's estimated rate. The
 * answer is the smallest k with P(N ≤ k) ≥ confidence, N ~ Poisson(expected). At a confidence of one
 * half that is the median, about the expected sales rounded (a unit is hidden once it is more likely
 * sold than not); higher confidences add a safety margin that grows with the square root of the
 * expected sales, so a SKU selling slowly on a channel that refreshes it rarely is covered for the
 * orders that come in a burst, not just on average.
 */
export function salesQuantile(expected: number, confidence: number): number {
  if (!(expected > 0)) return 0;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  if (expected === Infinity) return Infinity;
  // e^−λ underflows past about 745; long before that the normal approximation is exact to a unit.
  if (expected > EXACT_UP_TO) return normalQuantile(expected, confidence);
  let pmf = Math.exp(-expected);
  let cdf = pmf;
  let k = 0;
  while (cdf < confidence) {
    k += 1;
    pmf *= expected / k;
    cdf += pmf;
    // Rounding can leave the sum a hair under a confidence very close to 1: stop where the mass is spent.
    if (pmf < Number.EPSILON * cdf && k > expected) break;
  }
  return k;
}

/** Up to this many expected units the quantile is summed exactly. */
const EXACT_UP_TO = 500;

/** Poisson quantile for a large mean: the normal one, with the Cornish–Fisher term for the skew. */
function normalQuantile(expected: number, confidence: number): number {
  const z = probit(confidence);
  return Math.max(0, Math.ceil(expected + z * Math.sqrt(expected) + (z * z - 1) / 6 - 0.5));
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9), enough
 * for a count of units.
 */
export function probit(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -probit(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
