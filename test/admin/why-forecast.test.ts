import { describe, expect, it } from 'vitest';
import type { ChannelRules } from '../../core/config/config-types.ts';
import { formatWhy } from '../../core/features/admin/format-why.ts';
import { explainChannelQuantity, type WhyReads } from '../../core/features/admin/why.ts';
import { inventoryStatusOf } from '../../core/features/read/inventory-status.ts';
import type { AuditEntry } from '../../core/ledger/ledger-records.ts';

const FORECAST: ChannelRules = { reserve: 0, share: 1, forecast: { enabled: true, maxHiddenShare: 0.2, confidence: 0.5, minHorizonMs: 0, maxHorizonMs: 30_000 } };
const AT = new Date('2026-12-02T12:00:00Z');

/** The read models `why` answers from, holding one SKU sold down to 100 and confirmed on the channel as `shown`. */
function reads(shown: number): WhyReads {
  const change: AuditEntry = { id: 1, eventId: 'web:order:1:confirmed', eventType: 'order.confirmed', channel: 'web', sku: 'HOT', before: 120, after: 100, version: 4, clamped: 0, occurredAt: AT, createdAt: AT };
  return {
    inventory: {
      getLevel: async () => ({ sku: 'HOT', available: 100, version: 4, updatedAt: AT }),
      getChannelStates: async () => [{ channelId: 'amazon', sku: 'HOT', pushedVersion: 4, pushedQuantity: shown, confirmedAt: AT, deadLetteredAt: null, lastError: null }],
    },
    history: {
      listSkuChanges: async (_sku, range) => ((range.toVersion ?? Infinity) >= 4 && (range.fromVersion ?? 0) <= 4 ? [change] : []),
      oversoldByEvent: async () => new Map(),
    },
  };
}

describe('stockrelay why, on a channel with a forecast', () => {
  it('explains a forecast quantity as the forecast part of the formula, not as a mismatch', async () => {
    const report = (await explainChannelQuantity(reads(85), { id: 'amazon', connector: 'amazon', rules: FORECAST }, 'HOT'))!;
    expect(report.derivation).toMatchObject({ available: 100, expected: 100, matches: true, forecast: { maxHiddenShare: 0.2, lowest: 80, hidden: 15 } });
    expect(report.derivation.forecast!.formula).toContain('hid 15');
    const text = formatWhy(report);
    expect(text).toMatch(/forecast: .*the rules allow 100.*at most 20 %.*hid 15/);
    expect(text).not.toMatch(/note: the rules give/);
  });

  it('still calls a quantity below what the forecast may hide a mismatch', async () => {
    const report = (await explainChannelQuantity(reads(79), { id: 'amazon', connector: 'amazon', rules: FORECAST }, 'HOT'))!;
    expect(report.derivation).toMatchObject({ matches: false, forecast: { hidden: null } });
  });

  it('has no forecast part when the channel has none', async () => {
    const report = (await explainChannelQuantity(reads(100), { id: 'amazon', connector: 'amazon', rules: { reserve: 0, share: 1 } }, 'HOT'))!;
    expect(report.derivation).toMatchObject({ matches: true, forecast: null });
    expect(formatWhy(report)).not.toMatch(/forecast:/);
  });
});

describe('Inventory status, on a channel with a forecast', () => {
  it('gives the forecast quantity as the target, with what the rules allow and what is held back', () => {
    const status = inventoryStatusOf('HOT', {
      level: { sku: 'HOT', available: 100, version: 4, updatedAt: AT },
      channels: [
        {
          id: 'amazon',
          rules: FORECAST,
          stored: { channelId: 'amazon', sku: 'HOT', pushedVersion: 4, pushedQuantity: 85, confirmedAt: AT, deadLetteredAt: null, lastError: null },
          memory: {
            sku: 'HOT', version: 4, confirmedVersion: 4, inFlight: false, attempts: 0, retryAt: 0, deadLettered: false, oldestPendingAt: null, lastError: null, channelThrottledUntil: 0,
            forecast: { allowed: 100, quantity: 85, salesPerSecond: 3, horizonMs: 5_000, expectedSales: 15 },
          },
        },
      ],
      lagHalfLifeMs: 5_000,
      now: AT.getTime(),
    });
    expect(status.channels[0]).toMatchObject({ shown: 85, target: 85, state: 'in_sync', forecast: { allowed: 100, hidden: 15, salesPerSecond: 3, horizonMs: 5_000 } });
    expect(status.channels[0]!.forecast).not.toHaveProperty('lastUnitsOn');
  });

  it('names the one channel offering the last units, on that channel (nothing hidden) and on the others (everything hidden)', () => {
    const channel = (id: string, quantity: number): Parameters<typeof inventoryStatusOf>[1]['channels'][number] => ({
      id,
      rules: FORECAST,
      stored: { channelId: id, sku: 'HOT', pushedVersion: 4, pushedQuantity: quantity, confirmedAt: AT, deadLetteredAt: null, lastError: null },
      memory: {
        sku: 'HOT', version: 4, confirmedVersion: 4, inFlight: false, attempts: 0, retryAt: 0, deadLettered: false, oldestPendingAt: null, lastError: null, channelThrottledUntil: 0,
        forecast: { allowed: 12, quantity, salesPerSecond: 300, horizonMs: 500, expectedSales: 150, lastUnitsOn: 'amazon' },
      },
    });
    const status = inventoryStatusOf('HOT', { level: { sku: 'HOT', available: 12, version: 4, updatedAt: AT }, channels: [channel('amazon', 12), channel('ebay', 0)], lagHalfLifeMs: 5_000, now: AT.getTime() });
    expect(status.channels[0]).toMatchObject({ target: 12, forecast: { allowed: 12, hidden: 0, lastUnitsOn: 'amazon' } });
    expect(status.channels[1]).toMatchObject({ target: 0, forecast: { allowed: 12, hidden: 12, lastUnitsOn: 'amazon' } });
  });
});
