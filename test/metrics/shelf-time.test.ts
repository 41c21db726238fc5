import { describe, expect, it } from 'vitest';
import type { ChannelRules } from '../../core/config/config-types.ts';
import { ShelfTime } from '../../core/metrics/shelf-time.ts';

const plain: ChannelRules = { reserve: 0, share: 1 };

function shelf(rules: Record<string, ChannelRules> = { shop: plain, slow: plain }): { time: ShelfTime; episodes: Array<[string, number]> } {
  const episodes: Array<[string, number]> = [];
  const time = new ShelfTime((id) => rules[id], { now: () => 0, onEpisode: (id, ms) => episodes.push([id, ms]) });
  return { time, episodes };
}

describe('phantom and hidden stock as the hub knows them', () => {
  it('counts the time a confirmed quantity stood above what the rules give for the ledger, per SKU', () => {
    const { time, episodes } = shelf();
    time.shown('slow', 'A', 10, { available: 10, version: 1 }, 0);
    time.ledger([{ sku: 'A', available: 6, version: 2, eventChannel: 'shop', eventType: 'order.confirmed' }], 1_000);
    time.shown('slow', 'A', 6, { available: 6, version: 2 }, 3_000);
    expect(time.totals('slow', 5_000)).toEqual({ phantomSeconds: 2, phantomUnitSeconds: 8, hiddenUnitSeconds: 0 });
    expect(episodes).toEqual([['slow', 2_000]]);
  });

  it('lets a scrape see an episode still going', () => {
    const { time, episodes } = shelf();
    time.shown('slow', 'A', 5, { available: 5, version: 1 }, 0);
    time.ledger([{ sku: 'A', available: 0, version: 2 }], 1_000);
    expect(time.totals('slow', 1_500).phantomSeconds).toBe(0.5);
    expect(time.totals('slow', 4_000)).toEqual({ phantomSeconds: 3, phantomUnitSeconds: 15, hiddenUnitSeconds: 0 });
    expect(episodes).toEqual([]);
  });

  it('counts units the rules give but the channel was not shown as hidden', () => {
    const { time } = shelf();
    time.shown('slow', 'A', 0, { available: 0, version: 1 }, 0);
    time.ledger([{ sku: 'A', available: 20, version: 2, eventType: 'stock.adjusted', eventChannel: 'warehouse' }], 1_000);
    time.shown('slow', 'A', 20, { available: 20, version: 2 }, 1_500);
    expect(time.totals('slow', 9_000)).toEqual({ phantomSeconds: 0, phantomUnitSeconds: 0, hiddenUnitSeconds: 10 });
  });

  it('judges against the channel rules, not the raw ledger', () => {
    const { time } = shelf({ half: { reserve: 0, share: 0.5 } });
    time.shown('half', 'A', 5, { available: 10, version: 1 }, 0);
    time.ledger([{ sku: 'A', available: 8, version: 2 }], 1_000);
    // The rules now give 4: one unit phantom from 1 s on.
    expect(time.totals('half', 3_000)).toEqual({ phantomSeconds: 2, phantomUnitSeconds: 2, hiddenUnitSeconds: 0 });
  });

  it('stops counting the channel an order came from until a push confirms it again: it took the units off itself', () => {
    const { time } = shelf();
    time.shown('shop', 'A', 10, { available: 10, version: 1 }, 0);
    time.ledger([{ sku: 'A', available: 7, version: 2, eventChannel: 'shop', eventType: 'order.confirmed' }], 1_000);
    expect(time.totals('shop', 5_000).phantomSeconds).toBe(0);
    time.shown('shop', 'A', 7, { available: 7, version: 2 }, 5_000);
    expect(time.totals('shop', 9_000)).toEqual({ phantomSeconds: 0, phantomUnitSeconds: 0, hiddenUnitSeconds: 0 });
  });

  it('ignores a ledger change older than one it already knows', () => {
    const { time } = shelf();
    time.shown('slow', 'A', 4, { available: 4, version: 5 }, 0);
    time.ledger([{ sku: 'A', available: 9, version: 3 }], 1_000);
    expect(time.totals('slow', 2_000)).toEqual({ phantomSeconds: 0, phantomUnitSeconds: 0, hiddenUnitSeconds: 0 });
  });

  it('stops counting a channel this process no longer pushes, keeping what it counted', () => {
    const { time } = shelf();
    time.shown('slow', 'A', 5, { available: 5, version: 1 }, 0);
    time.ledger([{ sku: 'A', available: 3, version: 2 }], 0);
    expect(time.totals('slow', 1_000).phantomSeconds).toBe(1);
    time.release('slow');
    time.ledger([{ sku: 'A', available: 0, version: 3 }], 2_000);
    expect(time.totals('slow', 10_000).phantomSeconds).toBe(1);
  });

  it('counts nothing for a channel without rules or a SKU never confirmed', () => {
    const { time } = shelf({});
    time.shown('ghost', 'A', 5, { available: 0, version: 1 }, 0);
    time.ledger([{ sku: 'B', available: 0, version: 1 }], 0);
    expect(time.totals('ghost', 10_000)).toEqual({ phantomSeconds: 0, phantomUnitSeconds: 0, hiddenUnitSeconds: 0 });
    expect(time.channels()).toEqual([]);
  });
});
