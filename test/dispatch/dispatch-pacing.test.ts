import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../core/dispatch/backoff.ts';
import { RevisionBudget } from '../../core/dispatch/revision-budget.ts';
import { TokenBucket } from '../../core/dispatch/token-bucket.ts';

describe('TokenBucket', () => {
  it('starts full and allows exactly `burst` requests at once', () => {
    const bucket = new TokenBucket(2, 3, 0);
    expect([1, 2, 3, 4].map(() => bucket.tryTake(0))).toEqual([true, true, true, false]);
  });

  it('refills at `perSecond` and says when the next token is due', () => {
    const bucket = new TokenBucket(4, 1, 0);
    expect(bucket.tryTake(0)).toBe(true);
    expect(bucket.nextTokenAt(0)).toBe(250);
    expect(bucket.tryTake(249)).toBe(false);
    expect(bucket.tryTake(250)).toBe(true);
  });

  it('never holds more than `burst` tokens however long it was idle', () => {
    const bucket = new TokenBucket(10, 2, 0);
    expect(bucket.available(60_000)).toBe(2);
  });

  it('after a pause leaves one token at its end, then refills from there', () => {
    const bucket = new TokenBucket(10, 5, 0);
    bucket.pauseUntil(1_000, 0);
    expect(bucket.available(1_000)).toBe(1);
    expect(bucket.tryTake(1_000)).toBe(true);
    expect(bucket.tryTake(1_000)).toBe(false);
    expect(bucket.nextTokenAt(1_000)).toBe(1_100);
  });
});

describe('backoffDelay', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };

  it('draws from [0, base * 2^(attempt-1)), capped at max', () => {
    expect(backoffDelay(1, policy, 0, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, 0, () => 0.5)).toBe(200);
    expect(backoffDelay(10, policy, 0, () => 0.999)).toBe(999);
    expect(backoffDelay(3, policy, 0, () => 0)).toBe(0);
  });

  it('never comes back earlier than the server asked', () => {
    expect(backoffDelay(1, policy, 5_000, () => 0.999)).toBe(5_000);
    expect(backoffDelay(4, policy, 10, () => 0.5)).toBe(400);
  });
});

describe('RevisionBudget', () => {
  it('lets a SKU spend a tenth of its daily revisions at once, then one per day / perDay', () => {
    const budget = new RevisionBudget(240);
    expect(budget.burst).toBe(24);
    for (let i = 0; i < 24; i += 1) {
      expect(budget.availableAt('A', 0)).toBe(0);
      budget.take('A', 0);
    }
    expect(budget.availableAt('A', 0)).toBe(360_000);
    expect(budget.availableAt('B', 0)).toBe(0);
  });
});
