import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../connectors/_kit/index.ts';

/** A clock that moves only when told. */
function manualClock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('the one token bucket, on an injected clock', () => {
  it('lets a full burst pass at once, then refuses and says how long until the next token', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(2, 3, clock);
    expect([bucket.take(), bucket.take(), bucket.take()].every((t) => t.ok)).toBe(true);
    expect(bucket.take()).toEqual({ ok: false, retryAfterMs: 500, remaining: 0 });
    clock.advance(500);
    expect(bucket.take().ok).toBe(true);
  });

  it('charges a request that costs several tokens all at once, or not at all', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(10, 20, clock);
    expect(bucket.take(15)).toEqual({ ok: true, remaining: 5 });
    const refused = bucket.take(10);
    expect(refused).toEqual({ ok: false, retryAfterMs: 500, remaining: 5 });
    clock.advance(500);
    expect(bucket.take(10)).toEqual({ ok: true, remaining: 0 });
  });

  it('answers nextTokenAt on the clock it reads, and never refills past the burst', () => {
    const clock = manualClock(1_000);
    const bucket = new TokenBucket(4, 1, clock);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.nextTokenAt()).toBe(1_250);
    clock.advance(10_000);
    expect(bucket.available()).toBe(1);
  });
});
