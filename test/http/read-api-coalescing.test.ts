import { describe, expect, it } from 'vitest';
import { CoalescedInventoryReader, type InventoryRows } from '../../core/features/read/coalesced-inventory-reader.ts';

function recordingReader() {
  const statements: Array<{ skus: readonly string[]; startedAt: number }> = [];
  let clock = 0;
  const reader = new CoalescedInventoryReader(async (channelIds, skus): Promise<InventoryRows> => {
    statements.push({ skus, startedAt: ++clock });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const levels = new Map(skus.map((sku) => [sku, { sku, available: 1, version: 1, updatedAt: new Date(0) }]));
    return { levels, states: channelIds.map((channelId) => ({ channelId, sku: skus[0]!, pushedVersion: 1, pushedQuantity: 1, confirmedAt: null, deadLetteredAt: null, lastError: null })) };
  }, ['web']);
  return { reader, statements, tick: () => clock };
}

describe('inventory reads asked in the same turn', () => {
  it('share one statement that covers every SKU asked', async () => {
    const { reader, statements } = recordingReader();
    const answers = await Promise.all([reader.read(['A']), reader.read(['B', 'C']), reader.read(['A'])]);
    expect(statements).toHaveLength(1);
    expect([...statements[0]!.skus].sort()).toEqual(['A', 'B', 'C']);
    for (const [index, wanted] of [['A'], ['B', 'C'], ['A']].entries()) for (const sku of wanted) expect(answers[index]!.levels.has(sku)).toBe(true);
  });

  it('never answer a read from a statement that started before the read was asked', async () => {
    const { reader, statements, tick } = recordingReader();
    const first = reader.read(['A']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(statements).toHaveLength(1); // the first statement is running
    const askedAt = tick();
    await Promise.all([first, reader.read(['A'])]);
    expect(statements).toHaveLength(2);
    expect(statements[1]!.startedAt).toBeGreaterThan(askedAt);
  });

  it('split a group larger than one statement should read', async () => {
    const { reader, statements } = recordingReader();
    const big = (prefix: string) => Array.from({ length: 500 }, (_, i) => `${prefix}${i}`);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((p) => reader.read(big(p))));
    expect(statements.map((s) => s.skus.length)).toEqual([2000, 500]);
  });

  it('pass a failed statement to every read it served', async () => {
    const reader = new CoalescedInventoryReader(async () => {
      throw new Error('database away');
    }, ['web']);
    const results = await Promise.allSettled([reader.read(['A']), reader.read(['B'])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
