import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../core/config/config-types.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import { startChannelThread, type ChannelInfo, type ChannelShopperTally, type ChannelThread, type ShelfBatch } from '../../core/tooling/bench/channel-thread.ts';
import type { ShelfObservation } from '../../core/tooling/bench/shelf-mirror.ts';
import { WEBHOOK_CONNECTIONS_PER_CHANNEL } from '../../core/tooling/bench/webhook-connections.ts';
import { NATS_URL, PG_ADMIN_URL } from '../support/servers.ts';

function config(channels: Array<{ id: string; connector: string }>): LoadedConfig {
  const result = validateConfigObject({
    nats: { servers: [NATS_URL] },
    database: { url: PG_ADMIN_URL.replace(/\/postgres$/, '/stockrelay_never_used') },
    channels: channels.map((c) => ({ ...c, options: { baseUrl: 'http://127.0.0.1:1', token: 'x' }, limits: { perSecond: 1000, burst: 1000, maxBatchSize: 50 } })),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.loaded;
}

/**
 * Stands in for the hub's webhook route: answers every delivery with `status` (after `holdMs`, a busy hub),
 * keeps the orders' lines and the client ports each channel's deliveries came from.
 */
async function startIngress(status: number, holdMs = 0): Promise<{ server: Server; url: string; lines: Array<{ sku: string; qty: number }>; ports: Map<string, Set<number>> }> {
  const lines: Array<{ sku: string; qty: number }> = [];
  const ports = new Map<string, Set<number>>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { order: { lines: Array<{ sku: string; qty: number }> } };
    lines.push(...body.order.lines);
    const path = req.url ?? '';
    if (!ports.has(path)) ports.set(path, new Set());
    ports.get(path)!.add(req.socket.remotePort ?? 0);
    if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines, ports };
}

/** Writes quantities to a simulated sandbox channel as the hub would: one PUT through its HTTP API. */
async function putInventory(info: ChannelInfo, items: Record<string, number>): Promise<void> {
  const { baseUrl, token } = info.connectorOptions as { baseUrl: string; token: string };
  const res = await request(`${baseUrl}/v1/inventory`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ items: Object.entries(items).map(([sku, quantity]) => ({ sku, quantity })) }),
  });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`PUT answered ${res.statusCode}`);
}

const SKUS = ['SKU-1', 'SKU-2', 'SKU-3'];

describe('the simulated channels and their shoppers in a thread of their own', () => {
  let thread: ChannelThread;
  let ingress: Awaited<ReturnType<typeof startIngress>>;
  let infos: ChannelInfo[];
  const observed: ShelfObservation[] = [];
  let writeWindow: { before: number; after: number };
  let loadWindow: { before: number; after: number };
  let tally: ChannelShopperTally;

  beforeAll(async () => {
    ingress = await startIngress(200);
    thread = startChannelThread({ loaded: config([{ id: 'shop-a', connector: 'sandbox' }, { id: 'shop-b', connector: 'sandbox' }]), skus: SKUS, latency: { p50: 0, p99: 0 } });
    thread.onShelf((batch: ShelfBatch) => observed.push(...batch.observations));
    infos = await thread.ready;
    thread.setWebhookTargets(Object.fromEntries(infos.map((i) => [i.id, `${ingress.url}/webhooks/${i.id}`])));
    writeWindow = { before: Date.now(), after: 0 };
    for (const info of infos) await putInventory(info, { 'SKU-1': 3, 'SKU-2': 0, 'SKU-3': 1 });
    writeWindow.after = Date.now();
    await thread.sync();
    loadWindow = { before: Date.now(), after: 0 };
    thread.startLoad({ rate: 200, durationMs: 1_000, maxLines: 3, zipfExponent: 0.5, closed: true, maxInFlight: 1_000, seed: 7 });
    tally = await thread.done;
    loadWindow.after = Date.now();
    await thread.sync();
  }, 60_000);

  afterAll(async () => {
    await thread?.close();
    await new Promise<void>((resolve) => ingress?.server.close(() => resolve()));
  });

  it('reports each write the hub made with the time the channel applied it, not the time it crossed the thread boundary', () => {
    for (const info of infos) {
      const writes = thread.mirrors.get(info.id)!.writes('SKU-1');
      expect(writes).toHaveLength(1);
      expect(writes[0]![1]).toBe(3);
      expect(writes[0]![0]).toBeGreaterThanOrEqual(writeWindow.before);
      expect(writes[0]![0]).toBeLessThanOrEqual(writeWindow.after);
    }
  });

  it('reports each sale with the time the shopper bought, inside the load', () => {
    const sales = observed.filter((o) => o.kind === 'sold');
    expect(sales.length).toBeGreaterThan(0);
    for (const sale of sales) {
      expect(sale.at).toBeGreaterThanOrEqual(loadWindow.before);
      expect(sale.at).toBeLessThanOrEqual(loadWindow.after);
    }
  });

  it('in the closed loop, sells on each channel no more than it showed, and nothing it showed as zero', () => {
    const sold = (channel: string, sku: string): number => observed.filter((o) => o.kind === 'sold' && o.channel === channel && o.sku === sku).reduce((a, o) => a + (o.kind === 'sold' ? o.units : 0), 0);
    for (const info of infos) {
      expect(sold(info.id, 'SKU-1')).toBeLessThanOrEqual(3);
      expect(sold(info.id, 'SKU-2')).toBe(0);
      expect(sold(info.id, 'SKU-3')).toBeLessThanOrEqual(1);
    }
    expect(tally.refused).toBeGreaterThan(0);
  });

  it('after a sync, each mirror shows what its channel shows: what was written less what was sold', () => {
    const sold = (channel: string, sku: string): number => observed.filter((o) => o.kind === 'sold' && o.channel === channel && o.sku === sku).reduce((a, o) => a + (o.kind === 'sold' ? o.units : 0), 0);
    for (const info of infos) {
      const mirror = thread.mirrors.get(info.id)!;
      expect(mirror.shown('SKU-1')).toBe(3 - sold(info.id, 'SKU-1'));
      expect(mirror.shown('SKU-2')).toBe(0);
      expect(mirror.shown('SKU-3')).toBe(1 - sold(info.id, 'SKU-3'));
    }
  });

  it('delivers every order it counts as placed, with the lines it counts as sold', () => {
    expect(tally.failed).toBe(0);
    const units = ingress.lines.reduce((a, l) => a + l.qty, 0);
    expect(units).toBe(tally.unitsSold);
    expect(Object.values(tally.byChannel).reduce((a, c) => a + c.ordersPlaced, 0)).toBe(tally.placed);
  });
});

describe('webhook connections from the channels\' thread', () => {
  it('each channel delivers over a bounded pool of connections, however many orders wait on a slow hub', async () => {
    const ingress = await startIngress(200, 100);
    const thread = startChannelThread({ loaded: config([{ id: 'shop-a', connector: 'sandbox' }, { id: 'shop-b', connector: 'sandbox' }]), skus: SKUS, latency: { p50: 0, p99: 0 } });
    try {
      const infos = await thread.ready;
      thread.setWebhookTargets(Object.fromEntries(infos.map((i) => [i.id, `${ingress.url}/webhooks/${i.id}`])));
      thread.startLoad({ rate: 200, durationMs: 500, maxLines: 1, zipfExponent: 0, closed: false, maxInFlight: 1_000, seed: 5 });
      const tally = await thread.done;
      expect(tally.failed).toBe(0);
      for (const info of infos) {
        const used = ingress.ports.get(`/webhooks/${info.id}`)?.size ?? 0;
        expect(used).toBeGreaterThan(0);
        expect(used).toBeLessThanOrEqual(WEBHOOK_CONNECTIONS_PER_CHANNEL);
      }
    } finally {
      await thread.close();
      await new Promise<void>((resolve) => ingress.server.close(() => resolve()));
    }
  }, 30_000);
});

describe('the channels\' thread when something breaks', () => {
  it('rejects, naming the cause, when a simulator cannot start', async () => {
    const thread = startChannelThread({ loaded: config([{ id: 'shop-x', connector: './no-such-connector.mjs' }]), skus: SKUS, latency: { p50: 0, p99: 0 } });
    await expect(thread.ready).rejects.toThrow(/bench channels: .*no-such-connector/);
    await expect(thread.sync()).rejects.toThrow(/bench channels/);
    await thread.close();
  }, 30_000);

  it('counts orders whose webhook the hub refused as failed, and still settles', async () => {
    const ingress = await startIngress(500);
    const thread = startChannelThread({ loaded: config([{ id: 'shop-a', connector: 'sandbox' }]), skus: SKUS, latency: { p50: 0, p99: 0 } });
    try {
      const [info] = await thread.ready;
      thread.setWebhookTargets({ 'shop-a': `${ingress.url}/webhooks/shop-a` });
      await putInventory(info!, { 'SKU-1': 1000 });
      await thread.sync();
      thread.startLoad({ rate: 50, durationMs: 300, maxLines: 1, zipfExponent: 0, closed: false, maxInFlight: 100, seed: 3 });
      const tally = await thread.done;
      expect(tally.placed).toBeGreaterThan(0);
      expect(tally.failed).toBe(tally.placed);
      expect(tally.errors[0]).toMatch(/shop-a: .*500/);
    } finally {
      await thread.close();
      await new Promise<void>((resolve) => ingress.server.close(() => resolve()));
    }
  }, 30_000);
});
