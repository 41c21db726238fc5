import { describe, expect, it } from 'vitest';
import { planSkuMap, skuMapOption } from '../../core/cli/import-plan.ts';
import { planSeed, seedEvent, seedEventId } from '../../core/cli/import-seed.ts';
import type { ChannelListing } from '../../core/sdk.ts';

const listing = (sku: string, id: string, quantity = 1, title?: string): ChannelListing => ({ sku, mapping: { listingId: id }, quantity, ...(title ? { title } : {}) });
const objectValues = { type: 'object' };

describe('the SKU map an import plans', () => {
  it('maps every SKU listed once to the channel ids of its listing', () => {
    const plan = planSkuMap([listing('A', '1', 5), listing('B', '2', 0)], {}, objectValues);
    expect(plan.map).toEqual({ A: { listingId: '1' }, B: { listingId: '2' } });
    expect(plan.added).toEqual(['A', 'B']);
    expect([...plan.found]).toEqual([['A', 5], ['B', 0]]);
  });

  it('maps neither listing of a SKU two listings carry, names both, and keeps an existing mapping of it', () => {
    const plan = planSkuMap([listing('A', '1', 3, 'Red tee'), listing('A', '9', 4, 'Red tee (old)'), listing('B', '2')], { A: { listingId: '1' } }, objectValues);
    expect(plan.duplicates).toEqual([
      { sku: 'A', listings: [{ mapping: { listingId: '1' }, quantity: 3, title: 'Red tee' }, { mapping: { listingId: '9' }, quantity: 4, title: 'Red tee (old)' }] },
    ]);
    expect(plan.map.A).toEqual({ listingId: '1' });
    expect(plan.found.has('A')).toBe(false);
    expect(plan.added).toEqual(['B']);
  });

  it('counts the same listing read twice (overlapping pages) once, not as a duplicate', () => {
    const plan = planSkuMap([listing('A', '1'), listing('A', '1')], {}, objectValues);
    expect(plan.duplicates).toEqual([]);
    expect(plan.map).toEqual({ A: { listingId: '1' } });
  });

  it('reports listings without a SKU and maps nothing for them', () => {
    const plan = planSkuMap([listing('', '7', 2, 'No SKU'), listing('  ', '8')], {}, objectValues);
    expect(plan.withoutSku.map((l) => l.mapping)).toEqual([{ listingId: '7' }, { listingId: '8' }]);
    expect(plan.map).toEqual({});
  });

  it('tells added, changed and unchanged SKUs apart, and keeps mapped SKUs the channel no longer lists', () => {
    const plan = planSkuMap([listing('A', '1'), listing('B', '20'), listing('C', '3')], { A: { listingId: '1' }, B: { listingId: '2' }, Z: { listingId: '26' } }, objectValues);
    expect(plan).toMatchObject({ added: ['C'], changed: ['B'], unchanged: ['A'], notOnChannel: ['Z'] });
    expect(plan.map).toEqual({ A: { listingId: '1' }, B: { listingId: '20' }, C: { listingId: '3' }, Z: { listingId: '26' } });
  });

  it('writes the single value of a mapping where the map holds plain values (hub SKU → channel SKU)', () => {
    const plan = planSkuMap([{ sku: 'A', mapping: { sku: 'WM-A' }, quantity: 1 }], {}, { type: 'string' });
    expect(plan.map).toEqual({ A: 'WM-A' });
  });

  it('finds the SKU map option of a connector: skus, else listings, else none', () => {
    expect(skuMapOption({ properties: { skus: { type: 'object', additionalProperties: { type: 'string' } } } })).toEqual({ option: 'skus', valueSchema: { type: 'string' } });
    expect(skuMapOption({ properties: { listings: { type: 'object' } } })).toEqual({ option: 'listings', valueSchema: undefined });
    expect(skuMapOption({ properties: { token: { type: 'string' } } })).toBeUndefined();
  });
});

describe('seeding the ledger from an import', () => {
  it('seeds only SKUs the ledger does not count yet, and lists the others with both numbers', () => {
    const plan = planSeed(new Map([['A', 5], ['B', 7]]), new Map([['B', 3]]));
    expect(plan.seed).toEqual([{ sku: 'A', quantity: 5 }]);
    expect(plan.alreadyCounted).toEqual([{ sku: 'B', ledger: 3, channel: 7 }]);
  });

  it('seeds a quantity shown below zero as 0, and says so', () => {
    const plan = planSeed(new Map([['A', -2]]), new Map());
    expect(plan.seed).toEqual([{ sku: 'A', quantity: 0 }]);
    expect(plan.negative).toEqual(['A']);
  });

  it('gives a SKU the same event id on every run, whatever it shows, within the event id limit', () => {
    expect(seedEvent('shop', 'A', 5, new Date(0)).id).toBe(seedEvent('shop', 'A', 9, new Date()).id);
    expect(seedEventId('shop', 'A')).not.toBe(seedEventId('other', 'A'));
    const long = seedEventId('shop', 'X'.repeat(200));
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long).toBe(seedEventId('shop', 'X'.repeat(200)));
  });
});
