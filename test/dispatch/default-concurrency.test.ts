import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONCURRENCY, MAX_DEFAULT_CONCURRENCY, defaultConcurrency } from '../../core/dispatch/default-concurrency.ts';
import { effectiveLimits } from '../../core/plugins/effective-limits.ts';
import type { ConnectorCapabilities } from '../../core/sdk.ts';
import { dispatchHarness, stopDispatchers, until } from '../support/dispatch-harness.ts';

afterEach(stopDispatchers);

/** A one-SKU-per-call channel that declares no concurrency of its own. */
const oneSkuPerCall = (perSecond: number): ConnectorCapabilities => ({ maxBatchSize: 1, rateLimit: { perSecond, burst: perSecond }, quantityMode: 'absolute' });

describe('default push concurrency', () => {
  it('keeps 4 calls in flight on a channel of a few calls per second, as before', () => {
    expect(effectiveLimits(oneSkuPerCall(2), {}).concurrency).toBe(DEFAULT_CONCURRENCY);
    expect(defaultConcurrency(4)).toBe(4);
  });

  it('grows with the declared rate, one call per call-per-second, so a fast channel can use its rate', () => {
    expect(effectiveLimits(oneSkuPerCall(12), {}).concurrency).toBe(12);
    expect(defaultConcurrency(20.5)).toBe(21);
  });

  it('stops at its ceiling for a channel with a very high or no rate limit', () => {
    expect(effectiveLimits(oneSkuPerCall(10_000), {}).concurrency).toBe(MAX_DEFAULT_CONCURRENCY);
    expect(defaultConcurrency(Infinity)).toBe(MAX_DEFAULT_CONCURRENCY);
  });

  it('yields to what the connector declares, and the config to both', () => {
    expect(effectiveLimits({ ...oneSkuPerCall(500), maxConcurrency: 2 }, {}).concurrency).toBe(2);
    expect(effectiveLimits({ ...oneSkuPerCall(500), maxConcurrency: 2 }, { concurrency: 6 }).concurrency).toBe(6);
  });

  it('follows a rate raised in the config', () => {
    expect(effectiveLimits(oneSkuPerCall(2), { perSecond: 300 }).concurrency).toBe(MAX_DEFAULT_CONCURRENCY);
  });

  it('lets a dispatcher on such a channel keep that many pushes open at once, never two for one SKU', async () => {
    const limits = effectiveLimits(oneSkuPerCall(1_000), {});
    const { dispatcher, store, connector } = dispatchHarness({ limits });
    await dispatcher.start();
    const release = connector.hold();
    dispatcher.notify(Array.from({ length: 50 }, (_, i) => store.apply(`S${i}`, i + 1)));
    await until(dispatcher, () => connector.calls.length >= MAX_DEFAULT_CONCURRENCY, 'the calls in flight');
    expect(connector.maxConcurrent).toBe(MAX_DEFAULT_CONCURRENCY);
    expect(dispatcher.snapshot().inFlight).toBe(MAX_DEFAULT_CONCURRENCY);
    release();
    await until(dispatcher, () => connector.shown.size === 50, 'every SKU shown');
    expect(connector.maxConcurrent).toBe(MAX_DEFAULT_CONCURRENCY);
    expect(connector.overlaps).toEqual([]);
  });
});
