import { describe, expect, it } from 'vitest';
import { ShelfMirror } from '../../core/tooling/bench/shelf-mirror.ts';

describe('the mirror of a simulated channel\'s shelf', () => {
  it('shows the last write less the units sold since, and keeps each write with the time the channel applied it', () => {
    const mirror = new ShelfMirror({ A: 0 });
    mirror.apply({ kind: 'write', channel: 'c', sku: 'A', at: 1_000, quantity: 5 });
    mirror.apply({ kind: 'sold', channel: 'c', sku: 'A', at: 1_010, units: 2 });
    expect(mirror.shown('A')).toBe(3);
    expect(mirror.writes('A')).toEqual([[1_000, 5]]);
  });

  it('never shows less than zero when shoppers buy more than it shows', () => {
    const mirror = new ShelfMirror({ A: 1 });
    mirror.apply({ kind: 'sold', channel: 'c', sku: 'A', at: 5, units: 2 });
    expect(mirror.shown('A')).toBe(0);
  });

  it('knows since when the channel shows zero: the time of the change that took it there, kept while it stays there', () => {
    const mirror = new ShelfMirror({ A: 0 });
    mirror.apply({ kind: 'write', channel: 'c', sku: 'A', at: 100, quantity: 2 });
    expect(mirror.zeroSince('A')).toBeUndefined();
    mirror.apply({ kind: 'sold', channel: 'c', sku: 'A', at: 150, units: 2 });
    mirror.apply({ kind: 'write', channel: 'c', sku: 'A', at: 180, quantity: 0 });
    expect(mirror.zeroSince('A')).toBe(150);
  });

  it('settles to the quantity read in the channel\'s thread without recording a write', () => {
    const mirror = new ShelfMirror({ A: 4 });
    mirror.settle('A', 1, 300);
    expect(mirror.shown('A')).toBe(1);
    expect(mirror.writes('A')).toEqual([]);
  });
});
