/**
 * Draws index i of n with probability ∝ 1/(i+1)^s: a few hot items and a long tail, the shape of
 * demand in a flash sale. `random` is injectable so a run can be replayed.
 */
export function zipfPicker(n: number, s = 1.1, random: () => number = Math.random): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf: n must be a positive integer (got ${n})`);
  const cumulative = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) cumulative[i] = acc += 1 / (i + 1) ** s;
  for (let i = 0; i < n; i++) cumulative[i]! /= acc;
  return () => {
    const r = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
