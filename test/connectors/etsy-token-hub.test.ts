import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../core/sdk.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';

/** Every line the hub would log, kept to look for tokens in. */
function capturingLogger(lines: string[]): Logger & { child(extra: Record<string, unknown>): Logger } {
  const write = (level: string) => (msg: string, data?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, msg, ...data }));
  const logger = { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: () => logger };
  return logger;
}

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('Etsy in a hub, with access tokens that expire every 1.5 s', () => {
  let env: SimulatedHub | undefined;
  const lines: string[] = [];
  afterAll(async () => env?.stop());

  it('keeps a 15 s stream of stock changes flowing: converged, no dead letter, no token in any log line', async () => {
    const skus = { 'ET-1': 40, 'ET-2': 40, 'ET-3': 40, 'ET-4': 40 };
    env = await startSimulatedHub({
      channels: [{ id: 'etsy-shop', connector: 'etsy' }],
      skus,
      simulator: () => ({ tokenLifetimeMs: 1500 }),
      hub: { logger: capturingLogger(lines) },
    });
    const { hub } = env;
    const sim = env.simulator('etsy-shop') as ReturnType<SimulatedHub['simulator']> & { refreshes(): number };
    const started = Date.now();
    for (let n = 0; Date.now() - started < 15_000; n++) {
      const sku = Object.keys(skus)[n % 4]!;
      await hub.publish({ id: `manual:set:${n}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku, quantity: 10 + (n % 30) }] });
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await waitFor('Etsy to show the ledger', async () => {
      for (const sku of Object.keys(skus)) {
        const level = await hub.ledger.getLevel(sku);
        if (level === undefined || sim.shown(sku) !== level.available) return false;
      }
      return true;
    });
    const states = await hub.ledger.getChannelStates('etsy-shop');
    expect(states.filter((s) => s.deadLetteredAt !== null)).toEqual([]);
    // Several token lifetimes passed, so the connector renewed its token again and again.
    expect(sim.refreshes()).toBeGreaterThanOrEqual(5);
    const tokens = /\b12345678\.[A-Za-z0-9_-]{20,}|etsy-sim-(?:access|refresh)-token|etsysimsecret/;
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => tokens.test(line))).toEqual([]);
  }, 90_000);
});
