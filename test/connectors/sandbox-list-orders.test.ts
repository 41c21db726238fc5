import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sandbox from '../../connectors/sandbox/index.ts';
import { startSandboxSimulator, type SandboxSimulator } from '../../connectors/sandbox/simulator.ts';
import type { ConnectorInstance, ConnectorStateStore, WebhookRequest } from '../../core/sdk.ts';
import { silentLogger } from '../support/dispatch-harness.ts';
import { readCatchUpPass } from '../support/catch-up-pass.ts';

const signal = new AbortController().signal;
const values = new Map<string, string>();
const state: ConnectorStateStore = { get: async (k) => values.get(k), set: async (k, v) => void values.set(k, v), delete: async (k) => void values.delete(k) };

describe('sandbox: listing orders for catch-up', () => {
  let sim: SandboxSimulator;
  let connector: ConnectorInstance;
  const webhooks: WebhookRequest[] = [];

  beforeAll(async () => {
    sim = await startSandboxSimulator({ latency: { p50: 0, p99: 0 }, rateLimit: { perSecond: 1000, burst: 1000 }, skus: { L1: 500 } });
    connector = await sandbox.create(sim.connectorOptions([]), { channelId: 'sbx', logger: silentLogger, signal, state, registerSecret: () => undefined });
    // A local receiver would do; the connector's handler is the receiver here.
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        webhooks.push({ rawBody: Buffer.concat(chunks), headers: req.headers as Record<string, string>, path: '', query: {} });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    sim.setWebhookTarget(`http://127.0.0.1:${address.port}/`);
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  });
  afterAll(async () => {
    await connector?.close?.();
    await sim?.close();
  });

  const drain = (cursor: string | undefined) => readCatchUpPass(connector, cursor, signal);

  it('a dropped order is listed with the id its webhook would have carried', async () => {
    const { cursor: start } = await drain(undefined);
    await sim.placeOrder([{ sku: 'L1', qty: 1 }]);
    const { orderId } = await sim.placeOrder([{ sku: 'L1', qty: 2 }], { drop: true });
    expect(webhooks).toHaveLength(1);
    const delivered = (await connector.handleWebhook!(webhooks[0]!, signal)).events[0]!;
    const { events } = await drain(start);
    const listed = events.find((e) => e.id === delivered.id);
    expect(listed).toEqual(delivered);
    expect(events.map((e) => e.id)).toContain(`sbx:order:${orderId}:confirmed`);
  });

  it('more orders than a page are read page by page, none lost, and a second pass from the cursor keeps the newest', async () => {
    const { cursor: start } = await drain(undefined);
    const placed: string[] = [];
    for (let i = 0; i < 230; i++) placed.push((await sim.placeOrder([{ sku: 'L1', qty: 1 }], { drop: true })).orderId);
    const first = await drain(start);
    expect(first.pages.length).toBeGreaterThanOrEqual(3);
    const ids = new Set(first.events.map((e) => e.id));
    for (const id of placed) expect(ids.has(`sbx:order:${id}:confirmed`)).toBe(true);
    // The next poll overlaps a little: what it lists again carries the same ids.
    const second = await drain(first.cursor);
    expect(second.events.map((e) => e.id)).toContain(`sbx:order:${placed.at(-1)}:confirmed`);
  });
});
