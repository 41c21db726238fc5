import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { AlertNotification, Alert } from '../../core/features/alerts/alert-types.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const READ = 'read-token-for-alerts-0001';
const now = () => new Date().toISOString();

/** A local HTTP endpoint that records every alert notification POSTed to it. */
async function startReceiver(): Promise<{ url: string; received: AlertNotification[]; close(): Promise<void> }> {
  const received: AlertNotification[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertNotification);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('alerts fire and clear, and each transition reaches the webhook', () => {
  let setup: TestHubSetup;
  let hub: Hub;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  const notification = (status: 'firing' | 'resolved', id: string) => receiver.received.find((n) => n.status === status && n.alert.id === id);
  const waitForNotification = async (status: 'firing' | 'resolved', id: string, timeoutMs = 15_000) => {
    await waitFor(`a "${status}" notification for ${id}`, () => notification(status, id) !== undefined, timeoutMs);
    return notification(status, id)!;
  };
  const listed = async (): Promise<Alert[]> => {
    const res = await request(`${hub.url}/v1/alerts`, { headers: { authorization: `Bearer ${READ}` } });
    expect(res.statusCode).toBe(200);
    return ((await res.body.json()) as { alerts: Alert[] }).alerts;
  };
  const setStock = async (id: string, sku: string, quantity: number) => {
    await hub.publish({ id, type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku, quantity }] });
    await waitFor(`${id} to be applied`, () => hub.ledger.isProcessed(id));
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    setup = await setupTestHub({
      // The slow channel's calls take far longer than the threshold, and the fast one's far less, even on a busy machine.
      channels: [{ id: 'web' }, { id: 'slow', simulator: { latency: { p50: 1200, p99: 1500 } } }],
      dispatch: { maxAttempts: 3, backoffBaseMs: 100, backoffMaxMs: 200, reconcileIntervalMs: 60_000 },
    });
    const result = validateConfigObject({
      ...setup.config,
      http: { host: '127.0.0.1', port: 0, tokens: [{ token: READ, scope: 'read' }] },
      alerts: { webhookUrl: receiver.url, evaluateIntervalMs: 100, windowMs: 2500, syncLagP99Ms: 600, minSuccessRate: 0.99, oversell: true, deadLetterDepth: 1, backlog: 10_000 },
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    hub = await startHub({ ...setup, loaded: result.loaded });
  });
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
    await receiver?.close();
  });

  it('fires sync lag on a slow channel and clears it once the window holds no slow confirmation', async () => {
    await setStock('alerts:lag', 'LAG-1', 5);
    const fired = await waitForNotification('firing', 'sync_lag:slow');
    expect(fired.alert).toMatchObject({ kind: 'sync_lag', channel: 'slow', severity: 'warning', firing: true, threshold: 600 });
    expect(fired.alert.value).toBeGreaterThan(600);
    expect(fired.alert.message).toContain('slow');

    const resolved = await waitForNotification('resolved', 'sync_lag:slow');
    expect(resolved.alert).toMatchObject({ id: 'sync_lag:slow', firing: false, since: fired.alert.since });
    expect(resolved.alert.resolvedAt).toBeDefined();
    expect(receiver.received.indexOf(resolved)).toBeGreaterThan(receiver.received.indexOf(fired));
    expect(notification('firing', 'sync_lag:web')).toBeUndefined();
    expect((await listed()).find((a) => a.id === 'sync_lag:slow')).toMatchObject({ firing: false });
  });

  it('fires on an oversell from the channel the order came from, and clears after the window', async () => {
    await setStock('alerts:oversell:seed', 'OVER-1', 1);
    const order = 'web:order:OVER1:confirmed';
    await hub.publish({ id: order, type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'OVER-1', qty: 3 }] });
    const fired = await waitForNotification('firing', 'oversell:web');
    expect(fired.alert).toMatchObject({ kind: 'oversell', channel: 'web', severity: 'critical', value: 1, threshold: 0 });
    expect((await listed()).find((a) => a.id === 'oversell:web')?.firing ?? false).toBe(true);
    const metrics = await (await request(`${hub.url}/metrics`)).body.text();
    expect(metrics).toMatch(/alerts_firing\{kind="oversell",channel="web"\} 1/);

    await waitForNotification('resolved', 'oversell:web');
    const after = await (await request(`${hub.url}/metrics`)).body.text();
    expect(after).toMatch(/alerts_firing\{kind="oversell",channel="web"\} 0/);
  });

  it('fires on propagation success below the minimum while a channel is down, and clears after it recovers', async () => {
    const web = setup.simulators.get('web')!;
    web.setFault({ kind: 'down' });
    try {
      await setStock('alerts:down', 'DOWN-1', 4);
      const fired = await waitForNotification('firing', 'success_rate:web');
      expect(fired.alert).toMatchObject({ kind: 'success_rate', channel: 'web', severity: 'critical', threshold: 0.99 });
      expect(fired.alert.value).toBeLessThan(0.99);
    } finally {
      web.setFault(null);
    }
    await setStock('alerts:up', 'UP-1', 4);
    await waitFor('web to take pushes again', () => web.shown('UP-1') === 4);
    const resolved = await waitForNotification('resolved', 'success_rate:web');
    expect(resolved.alert.firing).toBe(false);
  });

  it('fires while dead letters wait in the dead-letter stream, and clears once it is emptied', async () => {
    const web = setup.simulators.get('web')!;
    web.setFault({ kind: 'down' });
    try {
      await setStock('alerts:dead', 'DEAD-1', 6);
      const fired = await waitForNotification('firing', 'dead_letters:web');
      expect(fired.alert).toMatchObject({ kind: 'dead_letters', channel: 'web', threshold: 1 });
      expect(fired.alert.value).toBeGreaterThanOrEqual(1);
    } finally {
      web.setFault(null);
    }
    await hub.bus.jsm.streams.purge(hub.loaded.config.nats.deadLetterStream);
    await waitForNotification('resolved', 'dead_letters:web');
  });

  it('lists alerts only for read tokens', async () => {
    expect((await request(`${hub.url}/v1/alerts`)).statusCode).toBe(401);
    const res = await request(`${hub.url}/v1/alerts`, { headers: { authorization: `Bearer ${READ}` } });
    const body = (await res.body.json()) as { evaluatedAt: string | null; alerts: Alert[] };
    expect(body.evaluatedAt).not.toBeNull();
    expect(body.alerts.length).toBeGreaterThan(0);
  });
});
