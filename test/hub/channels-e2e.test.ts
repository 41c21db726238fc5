import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeaderNames, tamperSignature } from '../../core/tooling/conformance/signature-headers.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

const CHANNELS = ['shopify', 'woocommerce', 'bigcommerce', 'ebay', 'etsy', 'tiktok', 'walmart', 'amazon'] as const;
/** Every channel gets its own SKUs so the cases do not disturb each other. */
const skusOf = (channel: string) => ({ a: `${channel.toUpperCase()}-A`, b: `${channel.toUpperCase()}-B`, c: `${channel.toUpperCase()}-C` });
const START = 20;

/** Captures one webhook delivery as sent by a simulator, so it can be replayed (tampered) to the hub. */
async function captureOne(): Promise<{ url: string; delivery: Promise<{ headers: Record<string, string>; body: Buffer }>; close(): Promise<void> }> {
  let resolveDelivery!: (d: { headers: Record<string, string>; body: Buffer }) => void;
  const delivery = new Promise<{ headers: Record<string, string>; body: Buffer }>((r) => (resolveDelivery = r));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      resolveDelivery({ headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, delivery, close: () => new Promise((r) => server.close(() => r())) };
}

describe('orders from every real channel reach the ledger once and every other channel', () => {
  let env: SimulatedHub;
  const audits = async (sku: string) => (await env.hub.ledger.listAudit({ sku, limit: 100 })).filter((a) => a.eventType === 'order.confirmed');

  beforeAll(async () => {
    const skus = Object.fromEntries(CHANNELS.flatMap((c) => Object.values(skusOf(c)).map((sku) => [sku, 0])));
    env = await startSimulatedHub({ channels: CHANNELS.map((c) => ({ id: `${c}-main`, connector: c })), skus });
    await env.hub.publish({ id: 'e2e:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: Object.keys(skus).map((sku) => ({ sku, quantity: START })) });
    await waitFor('every channel to show the seeded stock', () => CHANNELS.every((c) => Object.keys(skus).every((sku) => env.simulator(`${c}-main`).shown(sku) === START)), 30_000, 100);
  }, 60_000);
  afterAll(async () => {
    await env?.stop();
  });

  for (const channel of CHANNELS) {
    const id = `${channel}-main`;

    it(`${channel}: a 2-line order changes the ledger once per line and every channel shows the new quantities`, async () => {
      const { a, b } = skusOf(channel);
      await env.simulator(id).placeOrder!([{ sku: a, qty: 1 }, { sku: b, qty: 2 }]);
      await waitFor('the ledger to apply both lines', async () => {
        const levels = await env.hub.ledger.getLevels([a, b]);
        return levels.get(a)?.available === START - 1 && levels.get(b)?.available === START - 2;
      });
      expect(await audits(a)).toHaveLength(1);
      expect(await audits(b)).toHaveLength(1);
      expect((await audits(a))[0]!.channel).toBe(id);
      await waitFor('every channel to show the new quantities', () => CHANNELS.every((c) => env.simulator(`${c}-main`).shown(a) === START - 1 && env.simulator(`${c}-main`).shown(b) === START - 2), 20_000);
    });

    it(`${channel}: one order delivered three times and out of order changes the ledger once`, async () => {
      const { c } = skusOf(channel);
      await env.simulator(id).placeOrder!([{ sku: c, qty: 3 }], { times: 3, outOfOrder: true });
      await waitFor('the ledger to apply the order', async () => (await env.hub.ledger.getLevel(c))?.available === START - 3);
      // Give late copies time to arrive and be consumed; none may change anything.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await env.hub.ledger.getLevel(c))?.available).toBe(START - 3);
      expect(await audits(c)).toHaveLength(1);
    });
  }

  for (const channel of CHANNELS.filter((c) => c !== 'amazon')) {
    it(`${channel}: a webhook with a wrong, truncated or missing signature gets 401 and changes nothing`, async () => {
      const id = `${channel}-main`;
      const sim = env.simulator(id);
      const capture = await captureOne();
      sim.setWebhookTarget!(capture.url);
      const { a } = skusOf(channel);
      const before = (await env.hub.ledger.getLevel(a))!.available;
      await sim.placeOrder!([{ sku: a, qty: 1 }]);
      const { headers, body } = await capture.delivery;
      await capture.close();
      sim.setWebhookTarget!(`${env.hub.url}/webhooks/${id}`);
      const names = signatureHeaderNames(headers);
      expect(names.length).toBeGreaterThan(0);
      const post = (h: Record<string, string>) => request(`${env.hub.url}/webhooks/${id}`, { method: 'POST', headers: h, body });
      const variants: Array<[string, Record<string, string>]> = [
        ['wrong', Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, names.includes(k) ? tamperSignature(v) : v]))],
        ['truncated', Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, names.includes(k) ? v.slice(0, Math.floor(v.length / 2)) : v]))],
        ['missing', Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k)))],
      ];
      for (const [label, h] of variants) {
        delete h['content-length'];
        const res = await post(h);
        await res.body.dump();
        expect(res.statusCode, label).toBe(401);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await env.hub.ledger.getLevel(a))!.available).toBe(before);
      // The untouched delivery is accepted: the 401s were about the signature alone.
      const genuine = await post(Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'content-length')));
      await genuine.body.dump();
      expect(genuine.statusCode).toBe(200);
      await waitFor('the genuine delivery to apply', async () => (await env.hub.ledger.getLevel(a))!.available === before - 1);
    });
  }
});
