import { LagHistogram } from './lag-histogram.ts';

/** How fast a channel takes pushes: calls per second, calls it may make at once after a pause, SKUs per call. */
export interface ChannelPace {
  perSecond: number;
  burst: number;
  maxBatchSize: number;
}

/**
 * A floor under a channel's sync lag on a run, as a histogram over the same samples the hub measures
 * (each ledger change of each SKU, from the moment it happened at its source).
 *
 * Every channel starts a run showing the SKU's stock as the ledger had it; the first change of a SKU
 * leaves it showing too much, and only a push of that SKU can confirm the change. So each change made
 * before the SKU's first push waits for it. The floor grants the channel everything else: it pushes at
 * its full pace from the start (its burst at once, then `perSecond` calls a second), each call lands
 * the moment it goes, and after a SKU's first push a perfect forecast covers every later change the
 * moment it commits. It takes the SKUs that change most over the whole run first, known in hindsight:
 * that order keeps the fewest changes waiting past any given time on average, so no order does better
 * in expectation (a run's own p99 under another order can differ from it by the run's noise).
 * A channel that refreshes fewer SKUs per second than change cannot beat this while it first goes
 * through them: on a one-SKU-per-call channel it is what a short flash sale measures.
 */
export class FirstPassFloor {
  /** Per SKU, its changes as [occurredAt, committedAt] epoch ms pairs, in commit order. */
  readonly #changes = new Map<string, number[]>();

  /** The ledger changed `sku`: the change happened at its source at `occurredAt` and committed at `committedAt`. */
  change(sku: string, occurredAt: number, committedAt: number): void {
    let list = this.#changes.get(sku);
    if (!list) this.#changes.set(sku, (list = []));
    list.push(occurredAt, Math.max(occurredAt, committedAt));
  }

  /** The floor for a channel of `pace` whose run started at `from` (epoch ms): one sample per change recorded; none when it cannot push. */
  measure(pace: ChannelPace, from: number): LagHistogram {
    const floor = new LagHistogram();
    if (!(pace.perSecond > 0) || !(pace.maxBatchSize >= 1)) return floor;
    // Busiest first, by the whole run's count: the order that leaves the fewest changes waiting longest.
    const rank = new Map([...this.#changes].sort((a, b) => b[1].length - a[1].length).map(([sku], i) => [sku, i]));
    const commits: Array<{ sku: string; at: number }> = [];
    for (const [sku, list] of this.#changes) for (let i = 1; i < list.length; i += 2) commits.push({ sku, at: list[i]! });
    commits.sort((a, b) => a.at - b.at);

    const pushedAt = new Map<string, number>();
    const pending = new Set<string>();
    const burst = Math.max(1, pace.burst);
    let tokens = burst;
    let now = from;
    let next = 0;
    const refill = (until: number): void => {
      tokens = Math.min(burst, tokens + ((until - now) * pace.perSecond) / 1_000);
      now = until;
    };
    while (next < commits.length || pending.size > 0) {
      // Every change committed by now is known to the channel.
      while (next < commits.length && commits[next]!.at <= now) {
        const { sku } = commits[next++]!;
        if (!pushedAt.has(sku)) pending.add(sku);
      }
      if (pending.size === 0) {
        if (next >= commits.length) break;
        refill(Math.max(now, commits[next]!.at));
        continue;
      }
      if (tokens < 1) {
        // Wait for the next call slot; the token is taken whole (a refill to just under 1 by rounding
        // would otherwise wait again for a step too small to move an epoch-ms clock).
        const wait = ((1 - tokens) * 1_000) / pace.perSecond;
        tokens = 1;
        now += wait;
        continue;
      }
      tokens -= 1;
      const batch = [...pending].sort((a, b) => rank.get(a)! - rank.get(b)!).slice(0, pace.maxBatchSize);
      for (const sku of batch) {
        pushedAt.set(sku, now);
        pending.delete(sku);
      }
    }

    for (const [sku, list] of this.#changes) {
      const pushed = pushedAt.get(sku) ?? Infinity;
      for (let i = 0; i < list.length; i += 2) {
        const occurredAt = list[i]!;
        const committedAt = list[i + 1]!;
        floor.add(Math.max(committedAt, pushed) - occurredAt);
      }
    }
    return floor;
  }
}
