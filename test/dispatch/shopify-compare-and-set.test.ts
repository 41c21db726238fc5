import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

describe('Shopify compare-and-set through the hub', () => {
  let env: SimulatedHub;
  beforeAll(async () => {
    env = await startSimulatedHub({ channels: [{ id: 'shopify-main', connector: 'shopify' }, { id: 'web', connector: 'sandbox' }], skus: { 'CAS-1': 0 } });
  });
  afterAll(async () => env?.stop());

  it('does not overwrite a quantity changed underneath; reports it and re-pushes the ledger value', async () => {
    const shopify = env.simulator('shopify-main');
    await env.hub.publish({ id: 'cas:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: 'CAS-1', quantity: 10 }] });
    await waitFor('Shopify to show 10', () => shopify.shown('CAS-1') === 10);
    const refusedBefore = shopify.stats().staleRefusals!;

    // Someone changes Shopify directly (a POS sale the hub has not heard of yet).
    shopify.setShown('CAS-1', 7);
    await env.hub.publish({ id: 'web:order:CAS-A:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: new Date().toISOString(), lines: [{ sku: 'CAS-1', qty: 2 }] });

    await waitFor('Shopify to show the ledger value', () => shopify.shown('CAS-1') === 8);
    // The first push (changeFromQuantity 10) was refused as stale rather than applied blindly.
    expect(shopify.stats().staleRefusals).toBeGreaterThan(refusedBefore);
    // The hub records the confirmed write after the channel's answer reaches it, so wait for that too.
    const confirmed = async () => (await env.hub.ledger.getChannelStates('shopify-main', ['CAS-1']))[0];
    await waitFor('the hub to record the write of 8', async () => (await confirmed())?.pushedQuantity === 8);
    expect(await confirmed()).toMatchObject({ pushedQuantity: 8, pushedVersion: (await env.hub.ledger.getLevel('CAS-1'))!.version });
  });
});
