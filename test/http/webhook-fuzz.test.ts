import { describe, expect, it } from 'vitest';
import { fuzzBodies, runWebhookFuzz } from '../support/webhook-fuzz.ts';

const BODIES_PER_CHANNEL = Number(process.env.STOCKRELAY_FUZZ_BODIES ?? 300);

describe('signed webhook fuzz', () => {
  it('generates the same bodies from the same seed, and different ones from another', () => {
    const base = Buffer.from(JSON.stringify({ topic: 'order.created', order: { id: 'A-1', lines: [{ sku: 'S', qty: 1 }], createdAt: '2026-12-02T00:00:00Z' } }));
    const first = [...fuzzBodies(base, 7, 50)].map((c) => c.body.toString('base64'));
    const again = [...fuzzBodies(base, 7, 50)].map((c) => c.body.toString('base64'));
    const other = [...fuzzBodies(base, 8, 50)].map((c) => c.body.toString('base64'));
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    // Malformed, not merely re-serialized: almost none equal the real delivery.
    expect(first.filter((b) => b === base.toString('base64')).length).toBeLessThan(5);
  });

  it('malformed but validly signed bodies never crash the hub, never answer 5xx, never change the ledger beyond their signed content', async () => {
    const report = await runWebhookFuzz({ bodiesPerChannel: BODIES_PER_CHANNEL, seed: 20261202 });
    const covered = report.covered.map((c) => c.channelId);
    // Which channels this run could fuzz (a simulator without signWebhook cannot sign a fuzzed body).
    console.info(`webhook fuzz: covered ${covered.join(', ') || 'none'}; skipped ${report.skipped.map((s) => `${s.channelId} (${s.reason})`).join(', ')}`);
    expect(covered.length).toBeGreaterThan(0);
    for (const channel of report.covered) {
      // The real delivery, then the fuzzed bodies.
      expect(channel.sent, channel.channelId).toBe(BODIES_PER_CHANNEL + 1);
      expect({ channel: channel.channelId, failures: channel.failures }).toEqual({ channel: channel.channelId, failures: [] });
      expect({ channel: channel.channelId, ledger: channel.ledgerViolations }).toEqual({ channel: channel.channelId, ledger: [] });
    }
    expect(report.hubAlive).toBe(true);
  }, 300_000);
});
