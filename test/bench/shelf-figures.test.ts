import { describe, expect, it } from 'vitest';
import { channelClass } from '../../core/tooling/bench/channel-class.ts';
import { LagHistogram } from '../../core/tooling/bench/lag-histogram.ts';
import { groupByClass, shelfFigures } from '../../core/tooling/bench/shelf-figures.ts';
import { hiddenUnitsBound, replaySku, ShelfTally, type SkuTimeline } from '../../core/tooling/bench/shelf-timeline.ts';
import type { ChannelResult } from '../../core/tooling/bench/scenario-types.ts';

const window = { from: 0, to: 10_000, until: 20_000 };
const replay = (timeline: SkuTimeline, w = window): ShelfTally => {
  const tally = new ShelfTally();
  replaySku(timeline, w, tally);
  return tally;
};

describe('phantom stock on a constructed timeline', () => {
  it('counts an episode from the sale the channel has not shown until the write that shows it', () => {
    // The ledger drops from 5 to 2 at 1 s; the channel keeps showing 5 until a write lands at 1.4 s.
    const t = replay({ initialShown: 5, initialAllowed: 5, allowed: [{ at: 1_000, value: 2 }], shown: [{ at: 1_400, set: 2 }] });
    expect(t.episodes.count).toBe(1);
    expect(t.episodes.quantile(0.5)).toBe(400);
    expect(t.phantomSkuMs).toBe(400);
    expect(t.phantomUnitMs).toBe(3 * 400);
    expect(t.hiddenUnitMs).toBe(0);
    expect(t.openEpisodes).toBe(0);
  });

  it('keeps one episode going while the ledger falls further, and ends it when the channel is at or below the rules', () => {
    const t = replay({
      initialShown: 10,
      initialAllowed: 10,
      allowed: [
        { at: 1_000, value: 8 },
        { at: 2_000, value: 6 },
      ],
      shown: [
        { at: 3_000, set: 8 },
        { at: 4_000, set: 6 },
      ],
    });
    expect(t.episodes.count).toBe(1);
    expect(t.episodes.max).toBe(3_000);
    // 2 units for 1 s, 4 units for 1 s, 2 units for 1 s.
    expect(t.phantomUnitMs).toBe(2_000 + 4_000 + 2_000);
  });

  it('sees no phantom stock in a channel that sold the units itself before the ledger recorded them', () => {
    // A shopper buys 2 on this channel at 1 s (it shows 3 at once); the ledger records the order at 1.05 s.
    const t = replay({ initialShown: 5, initialAllowed: 5, allowed: [{ at: 1_050, value: 3 }], shown: [{ at: 1_000, sold: 2 }] });
    expect(t.episodes.count).toBe(0);
    expect(t.phantomUnitMs).toBe(0);
    // For 50 ms the channel showed 2 units less than the ledger allowed: hidden, but not held back.
    expect(t.hiddenUnitMs).toBe(100);
    expect(t.heldBackUnitMs).toBe(0);
  });

  it('follows an episode that began during the load past its end, and counts one still going as open', () => {
    const ended = replay({ initialShown: 4, initialAllowed: 4, allowed: [{ at: 9_000, value: 0 }], shown: [{ at: 12_000, set: 0 }] });
    expect(ended.episodes.max).toBe(3_000);
    expect(ended.openEpisodes).toBe(0);
    // Unit-time is counted inside the load only: 4 units for the last second of it.
    expect(ended.phantomUnitMs).toBe(4_000);
    const open = replay({ initialShown: 4, initialAllowed: 4, allowed: [{ at: 9_000, value: 0 }], shown: [] });
    expect(open.openEpisodes).toBe(1);
    expect(open.episodes.max).toBe(11_000);
  });

  it('counts an episode already going when the load starts from the start, and none that ended before', () => {
    const t = replay(
      {
        initialShown: 4,
        initialAllowed: 4,
        allowed: [
          { at: 500, value: 3 },
          { at: 1_500, value: 1 },
        ],
        shown: [
          { at: 800, set: 3 },
          { at: 2_500, set: 1 },
        ],
      },
      { from: 1_000, to: 10_000, until: 20_000 },
    );
    expect(t.episodes.count).toBe(1);
    expect(t.episodes.max).toBe(1_000);
    expect(t.phantomUnitMs).toBe(2 * 1_000);
  });

  it('judges a write that lands as the ledger changes against the new ledger', () => {
    const t = replay({ initialShown: 5, initialAllowed: 5, allowed: [{ at: 1_000, value: 4 }], shown: [{ at: 1_000, set: 4 }] });
    expect(t.episodes.count).toBe(0);
    expect(t.phantomUnitMs).toBe(0);
  });
});

describe('hidden units on a constructed timeline', () => {
  it('counts units a write left out on purpose as held back, used up as the ledger sells down to them', () => {
    // A forecast shows 6 of 10 at 0 s (4 held back); the ledger sells to 8 at 2 s and to 6 at 4 s.
    const t = replay({
      initialShown: 10,
      initialAllowed: 10,
      allowed: [
        { at: 2_000, value: 8 },
        { at: 4_000, value: 6 },
      ],
      shown: [{ at: 0, set: 6 }],
    });
    // 4 units for 2 s, then 2 units for 2 s, then nothing.
    expect(t.hiddenUnitMs).toBe(4 * 2_000 + 2 * 2_000);
    expect(t.heldBackUnitMs).toBe(t.hiddenUnitMs);
    expect(t.allowedUnitMs).toBe(10 * 2_000 + 8 * 2_000 + 6 * 6_000);
    expect(t.episodes.count).toBe(0);
  });

  it('counts what a settled channel shows below the rules when the load starts as held back (a reserve)', () => {
    const t = replay({ initialShown: 5, initialAllowed: 8, initialWithheld: 3, allowed: [], shown: [] });
    expect(t.hiddenUnitMs).toBe(3 * 10_000);
    expect(t.heldBackUnitMs).toBe(3 * 10_000);
  });

  it('counts a channel still being pushed when the load starts as waiting, not holding back', () => {
    const t = replay({ initialShown: 0, initialAllowed: 8, allowed: [], shown: [{ at: 2_000, set: 8 }] });
    expect(t.hiddenUnitMs).toBe(8 * 2_000);
    expect(t.heldBackUnitMs).toBe(0);
  });

  it('counts a restock the channel has not shown yet as hidden but not held back', () => {
    const t = replay({ initialShown: 0, initialAllowed: 0, allowed: [{ at: 1_000, value: 200 }], shown: [{ at: 3_000, set: 200 }] });
    expect(t.hiddenUnitMs).toBe(200 * 2_000);
    expect(t.heldBackUnitMs).toBe(0);
  });
});

describe('the hidden-units bound (Σ√vᵢ)² / (2C)', () => {
  it('is half the sales per refresh for one SKU', () => {
    // One SKU selling 4 units/s on a channel refreshing 2 SKUs/s: refreshed every 0.5 s, 2 units sold per refresh, 1 hidden on average.
    expect(hiddenUnitsBound([4], 2)).toBe(1);
  });

  it('adds square roots of the rates, so spreading sales over SKUs costs more than their sum alone', () => {
    expect(hiddenUnitsBound([1, 4, 9], 3)).toBeCloseTo((1 + 2 + 3) ** 2 / 6, 12);
    expect(hiddenUnitsBound([1, 1, 1, 1], 1)).toBe(8);
    expect(hiddenUnitsBound([4], 1)).toBe(2);
  });

  it('is 0 with no sales and infinite for a channel that cannot refresh', () => {
    expect(hiddenUnitsBound([0, 0], 5)).toBe(0);
    expect(hiddenUnitsBound([1], 0)).toBe(Infinity);
  });

  it('is set beside the measured mean held-back units per channel', () => {
    const tally = new ShelfTally();
    tally.heldBackUnitMs = 30_000; // 30 unit-seconds over a 10 s load: 3 units on average
    tally.hiddenUnitMs = 40_000;
    tally.allowedUnitMs = 1_000_000;
    const figures = shelfFigures(tally, { loadSeconds: 10, salesPerSecond: [1, 4, 9], share: 1, capacity: 3 });
    expect(figures.meanHeldBackUnits).toBe(3);
    expect(figures.hiddenBoundUnits).toBe(6);
    expect(figures.boundRatio).toBe(0.5);
    expect(figures.heldBackShare).toBe(0.03);
    expect(figures.hiddenShare).toBe(0.04);
  });
});

describe('channel classes', () => {
  it('names a class by requests per second and SKUs per request', () => {
    expect(channelClass({ perSecond: 2, maxBatchSize: 250 })).toBe('2/s × 250');
    expect(channelClass({ perSecond: 0.5, maxBatchSize: 1 })).toBe('0.5/s × 1');
  });

  it('groups channels by class and takes percentiles over every sample of the class', () => {
    const channel = (id: string, cls: string, boundRatio: number | null): ChannelResult =>
      ({ channelId: id, class: cls, perSecond: 5, maxBatchSize: 1, shelf: { phantomSkuSeconds: 1, phantomUnitSeconds: 2, hiddenUnitSeconds: 3, heldBackUnitSeconds: 1, hiddenShare: 0.01, heldBackShare: 0.005, boundRatio } }) as ChannelResult;
    const lag = (values: number[]): LagHistogram => {
      const h = new LagHistogram();
      for (const v of values) h.add(v);
      return h;
    };
    const histograms = new Map([
      ['a', { lag: lag([100, 200]), lagFloor: lag([0, 100]), ttz: lag([]), episodes: lag([50]) }],
      ['b', { lag: lag([300, 400]), lagFloor: lag([0, 100]), ttz: lag([]), episodes: lag([900]) }],
      ['c', { lag: lag([10]), lagFloor: lag([0]), ttz: lag([]), episodes: lag([]) }],
    ]);
    const classes = groupByClass([channel('a', '5/s × 1', 1.2), channel('b', '5/s × 1', 2), channel('c', '2/s × 250', null)], histograms);
    expect(classes.map((c) => c.class)).toEqual(['5/s × 1', '2/s × 250']);
    expect(classes[0]).toMatchObject({ channels: ['a', 'b'], phantomUnitSeconds: 4, hiddenUnitSeconds: 6, worstBoundRatio: 2, medianBoundRatio: 1.6 });
    expect(classes[0]!.lag.max).toBe(400);
    expect(classes[0]!.phantomEpisodes.count).toBe(2);
    expect(classes[1]!.worstBoundRatio).toBeNull();
  });
});
