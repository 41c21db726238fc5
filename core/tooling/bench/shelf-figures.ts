import { LagHistogram } from './lag-histogram.ts';
import type { ChannelResult, ClassResult, ShelfFigures } from './scenario-types.ts';
import { hiddenUnitsBound, type ShelfTally } from './shelf-timeline.ts';

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * A channel's shelf figures from its tally: seconds of load turn unit-time into mean units, and the
 * run's sales rates per SKU (units/s over the whole hub; the channel shows `share` of them) give the
 * physical bound for a channel refreshing `capacity` SKUs per second.
 */
export function shelfFigures(tally: ShelfTally, run: { loadSeconds: number; salesPerSecond: Iterable<number>; share: number; capacity: number }): ShelfFigures {
  const rates = [...run.salesPerSecond].map((v) => v * run.share);
  const bound = rates.some((v) => v > 0) ? hiddenUnitsBound(rates, run.capacity) : null;
  const meanHeldBack = run.loadSeconds > 0 ? tally.heldBackUnitMs / 1000 / run.loadSeconds : 0;
  return {
    phantomSkuSeconds: round(tally.phantomSkuMs / 1000, 3),
    phantomUnitSeconds: round(tally.phantomUnitMs / 1000, 3),
    phantomEpisodes: tally.episodes.summary(),
    openPhantomEpisodes: tally.openEpisodes,
    hiddenUnitSeconds: round(tally.hiddenUnitMs / 1000, 3),
    heldBackUnitSeconds: round(tally.heldBackUnitMs / 1000, 3),
    meanHeldBackUnits: round(meanHeldBack, 3),
    hiddenShare: tally.allowedUnitMs > 0 ? round(tally.hiddenUnitMs / tally.allowedUnitMs, 6) : 0,
    heldBackShare: tally.allowedUnitMs > 0 ? round(tally.heldBackUnitMs / tally.allowedUnitMs, 6) : 0,
    hiddenBoundUnits: bound === null || !Number.isFinite(bound) ? null : round(bound, 3),
    boundRatio: bound === null || !Number.isFinite(bound) || bound === 0 ? null : round(meanHeldBack / bound, 3),
  };
}

const median = (values: readonly number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Channels grouped by class, in the order each class first appears. Percentiles are over every sample
 * of the class (lag, time to zero and episodes of all its channels merged), not averages of channels.
 */
export function groupByClass(channels: readonly ChannelResult[], histograms: ReadonlyMap<string, { lag: LagHistogram; lagFloor: LagHistogram; ttz: LagHistogram; episodes: LagHistogram }>): ClassResult[] {
  const classes = new Map<string, ChannelResult[]>();
  for (const c of channels) classes.set(c.class, [...(classes.get(c.class) ?? []), c]);
  return [...classes].map(([name, members]) => {
    const lag = new LagHistogram();
    const lagFloor = new LagHistogram();
    const ttz = new LagHistogram();
    const episodes = new LagHistogram(3_600_000);
    for (const c of members) {
      const h = histograms.get(c.channelId);
      if (!h) continue;
      lag.merge(h.lag);
      lagFloor.merge(h.lagFloor);
      ttz.merge(h.ttz);
      episodes.merge(h.episodes);
    }
    const ratios = members.map((c) => c.shelf.boundRatio).filter((r): r is number => r !== null);
    const sum = (pick: (c: ChannelResult) => number): number => round(members.reduce((a, c) => a + pick(c), 0), 3);
    return {
      class: name,
      perSecond: members[0]!.perSecond,
      maxBatchSize: members[0]!.maxBatchSize,
      channels: members.map((c) => c.channelId),
      lag: lag.summary(),
      lagFloor: lagFloor.summary(),
      timeToZero: ttz.summary(),
      phantomSkuSeconds: sum((c) => c.shelf.phantomSkuSeconds),
      phantomUnitSeconds: sum((c) => c.shelf.phantomUnitSeconds),
      phantomEpisodes: episodes.summary(),
      hiddenUnitSeconds: sum((c) => c.shelf.hiddenUnitSeconds),
      heldBackUnitSeconds: sum((c) => c.shelf.heldBackUnitSeconds),
      worstHiddenShare: Math.max(...members.map((c) => c.shelf.hiddenShare)),
      worstHeldBackShare: Math.max(...members.map((c) => c.shelf.heldBackShare)),
      worstBoundRatio: ratios.length > 0 ? Math.max(...ratios) : null,
      medianBoundRatio: median(ratios),
    };
  });
}
