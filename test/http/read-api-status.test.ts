import { describe, expect, it } from 'vitest';
import type { DispatchSkuStatus } from '../../core/dispatch/dispatch-types.ts';
import type { ChannelSkuState, StockLevel } from '../../core/ledger/ledger-types.ts';
import { confidence, inventoryStatusOf } from '../../core/features/read/inventory-status.ts';

const NOW = Date.parse('2026-03-01T12:00:10.000Z');
const level: StockLevel = { sku: 'S-1', available: 10, version: 7, updatedAt: new Date(NOW - 2_000) };
const rules = { reserve: 0, share: 1 };

const stored = (pushedVersion: number, extra: Partial<ChannelSkuState> = {}): ChannelSkuState => ({
  channelId: 'c',
  sku: 'S-1',
  pushedVersion,
  pushedQuantity: 12,
  confirmedAt: new Date(NOW - 9_000),
  deadLetteredAt: null,
  lastError: null,
  ...extra,
});
const memory = (extra: Partial<DispatchSkuStatus> = {}): DispatchSkuStatus => ({
  sku: 'S-1',
  version: 7,
  confirmedVersion: 5,
  inFlight: false,
  attempts: 0,
  retryAt: 0,
  deadLettered: false,
  oldestPendingAt: NOW - 3_000,
  lastError: null,
  channelThrottledUntil: 0,
  ...extra,
});
const one = (s: ChannelSkuState | undefined, m: DispatchSkuStatus | undefined, r = rules) =>
  inventoryStatusOf('S-1', { level, channels: [{ id: 'c', rules: r, stored: s, memory: m }], lagHalfLifeMs: 5_000, now: NOW }).channels[0]!;

describe('a channel\'s state for one SKU', () => {
  it('is in sync once the stored pushed version reaches the ledger version', () => {
    expect(one(stored(7), undefined)).toMatchObject({ state: 'in_sync', versionsBehind: 0, msBehind: 0, shown: 12, target: 10 });
  });

  it('is pending while behind with nothing failed, lagging since the oldest unconfirmed change', () => {
    expect(one(stored(5), memory())).toMatchObject({ state: 'pending', versionsBehind: 2, msBehind: 3_000 });
  });

  it('counts lag from the ledger update when the dispatcher has not heard of the change yet', () => {
    expect(one(stored(5), undefined)).toMatchObject({ state: 'pending', msBehind: 2_000 });
  });

  it('is throttled while the channel is paused by a throttle', () => {
    expect(one(stored(5), memory({ channelThrottledUntil: NOW + 1_000 })).state).toBe('throttled');
  });

  it('is failing once an attempt failed, and says why', () => {
    expect(one(stored(5), memory({ attempts: 2, inFlight: true, lastError: 'HTTP 503' }))).toMatchObject({ state: 'failing', lastError: 'HTTP 503' });
  });

  it('is dead-lettered when parked, or when only the store knows it was dead-lettered', () => {
    expect(one(stored(5), memory({ deadLettered: true, attempts: 3 })).state).toBe('dead_lettered');
    expect(one(stored(5, { deadLetteredAt: new Date(NOW - 1_000), lastError: 'gone' }), undefined)).toMatchObject({ state: 'dead_lettered', lastError: 'gone' });
  });

  it('follows memory over a stale dead-letter mark once a newer change brought the SKU back', () => {
    expect(one(stored(5, { deadLetteredAt: new Date(NOW - 1_000) }), memory()).state).toBe('pending');
  });

  it('applies the channel rules to the target', () => {
    expect(one(stored(7), undefined, { reserve: 2, share: 0.5 }).target).toBe(3);
  });
});

describe('the summary an agent acts on', () => {
  it('weighs every channel: in sync 1, behind halving per lag threshold, failing half that, dead-lettered 0', () => {
    expect(confidence([{ state: 'in_sync', msBehind: 0 }], 5_000)).toBe(1);
    expect(confidence([{ state: 'pending', msBehind: 5_000 }], 5_000)).toBe(0.5);
    expect(confidence([{ state: 'failing', msBehind: 5_000 }], 5_000)).toBe(0.25);
    expect(confidence([{ state: 'in_sync', msBehind: 0 }, { state: 'dead_lettered', msBehind: 60_000 }], 5_000)).toBe(0.5);
    expect(confidence([], 5_000)).toBe(1);
  });

  it('names the oldest unconfirmed change and the largest lag across channels', () => {
    const status = inventoryStatusOf('S-1', {
      level,
      channels: [
        { id: 'a', rules, stored: stored(7), memory: undefined },
        { id: 'b', rules, stored: stored(5), memory: memory({ oldestPendingAt: NOW - 4_000 }) },
        { id: 'c', rules, stored: stored(6), memory: undefined },
      ],
      lagHalfLifeMs: 5_000,
      now: NOW,
    });
    expect(status.summary).toMatchObject({ channelsInSync: 1, channels: 3, shareInSync: 0.333, maxMsBehind: 4_000, oldestUnconfirmedAt: new Date(NOW - 4_000).toISOString() });
  });

  it('says an unknown SKU is unknown, with no confidence', () => {
    const status = inventoryStatusOf('NOPE', { level: undefined, channels: [{ id: 'a', rules, stored: undefined, memory: undefined }], lagHalfLifeMs: 5_000, now: NOW });
    expect(status).toMatchObject({ known: false, available: 0, channels: [], summary: { confidence: 0 } });
  });
});
