import { headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { InventoryEvent } from '../../core/events/event-types.ts';
import type { Hub } from '../../core/hub.ts';
import { requireScope } from '../../core/http/auth.ts';
import type { InventoryStatus } from '../../core/features/read/inventory-status.ts';
import { inventoryQuerySubject } from '../../core/bus/subjects.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const READ = 'read-token-for-agents-0001';
const ADMIN = 'admin-token-for-operators-01';
const now = () => new Date().toISOString();

/** The test hub's config with API tokens (and anything else) added, validated like a real one. */
function withSettings(setup: TestHubSetup, extra: Record<string, unknown>) {
  const result = validateConfigObject({ ...setup.config, ...extra });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return { ...setup, loaded: result.loaded };
}

describe('the read API answers from the ledger', () => {
  let setup: TestHubSetup;
  let hub: Hub;

  const get = async (path: string, token: string | null = READ) => {
    const res = await request(`${hub.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
  };
  const post = async (path: string, body: unknown, token: string | null = READ) => {
    const res = await request(`${hub.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  const setStock = async (id: string, lines: Array<{ sku: string; quantity: number }>) => {
    await hub.publish({ id, type: 'stock.set', channel: 'manual', occurredAt: now(), lines });
    await waitFor(`${id} to be applied`, () => hub.ledger.isProcessed(id));
  };

  beforeAll(async () => {
    setup = await setupTestHub({
      channels: [{ id: 'web' }, { id: 'market', rules: { reserve: 2 } }],
      dispatch: { maxAttempts: 4, backoffBaseMs: 150, backoffMaxMs: 300, reconcileIntervalMs: 1000 },
    });
    hub = await startHub(
      withSettings(setup, {
        http: {
          host: '127.0.0.1',
          port: 0,
          tokens: [
            { name: 'agent', token: READ, scope: 'read' },
            { name: 'ops', token: ADMIN, scope: 'admin' },
          ],
        },
      }),
      {
        features: [
          {
            name: 'test-admin-only',
            routes(app, ctx) {
              app.post('/v1/test-admin-only', { preHandler: requireScope(ctx.config.http.tokens, 'admin') }, async () => ({ ok: true }));
            },
          },
        ],
      },
    );
  });
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
  });

  it('shows a committed order in the very next read', async () => {
    await setStock('read:seed:fresh', [{ sku: 'FRESH-1', quantity: 10 }]);
    const before = (await get('/v1/inventory/FRESH-1')).body as unknown as InventoryStatus;
    expect(before).toMatchObject({ sku: 'FRESH-1', known: true, available: 10 });

    const order: InventoryEvent = { id: 'web:order:F1:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'FRESH-1', qty: 3 }] };
    await hub.publish(order);
    await waitFor('the order to commit', () => hub.ledger.isProcessed(order.id), 20_000, 5);
    const after = (await get('/v1/inventory/FRESH-1')).body as unknown as InventoryStatus;
    expect(after.available).toBe(7);
    expect(after.version).toBe(before.version + 1);
    expect(Date.parse(after.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(before.updatedAt!));
  });

  it('shows every channel in sync with what its rules say once the pushes are confirmed', async () => {
    await setStock('read:seed:sync', [{ sku: 'SYNC-1', quantity: 9 }]);
    await waitFor('both channels to confirm', async () => (await get('/v1/inventory/SYNC-1')).body.summary !== undefined && ((await get('/v1/inventory/SYNC-1')).body as unknown as InventoryStatus).summary.channelsInSync === 2);
    const status = (await get('/v1/inventory/SYNC-1')).body as unknown as InventoryStatus;
    expect(status.channels).toEqual([
      expect.objectContaining({ channel: 'web', shown: 9, target: 9, versionsBehind: 0, msBehind: 0, state: 'in_sync', pushedVersion: status.version }),
      expect.objectContaining({ channel: 'market', shown: 7, target: 7, versionsBehind: 0, msBehind: 0, state: 'in_sync' }),
    ]);
    expect(status.channels[0]!.confirmedAt).not.toBeNull();
    expect(status.summary).toEqual({ channelsInSync: 2, channels: 2, shareInSync: 1, oldestUnconfirmedAt: null, maxMsBehind: 0, confidence: 1 });
    expect(setup.simulators.get('market')!.shown('SYNC-1')).toBe(7);
  });

  it('answers known: false for a SKU the ledger has never held', async () => {
    const res = await get('/v1/inventory/NEVER-HEARD-OF-IT');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sku: 'NEVER-HEARD-OF-IT', known: false, available: 0, channels: [], summary: { confidence: 0 } });
  });

  it('answers 100 SKUs in one call, in the order asked', async () => {
    const skus = Array.from({ length: 100 }, (_, i) => `BATCH-${String(i).padStart(3, '0')}`);
    await setStock('read:seed:batch', skus.map((sku, i) => ({ sku, quantity: i })));
    const asked = [...skus].reverse();
    const res = await post('/v1/inventory/query', { skus: asked });
    expect(res.status).toBe(200);
    const items = res.body.items as InventoryStatus[];
    expect(items).toHaveLength(100);
    expect(items.map((i) => i.sku)).toEqual(asked);
    expect(items.every((i) => i.known && i.available === Number(i.sku.slice(6)) && i.channels.length === 2)).toBe(true);
  });

  it('answers concurrent single-SKU reads each with its own SKU', async () => {
    const skus = Array.from({ length: 40 }, (_, i) => `BATCH-${String(i * 2).padStart(3, '0')}`);
    const answers = await Promise.all(skus.map((sku) => get(`/v1/inventory/${sku}`)));
    expect(answers.map((a) => [a.body.sku, a.body.available])).toEqual(skus.map((sku) => [sku, Number(sku.slice(6))]));
  });

  it('answers the query-string form with repeated sku parameters', async () => {
    const res = await get('/v1/inventory?sku=BATCH-001&sku=NOPE-1&sku=BATCH-002');
    expect(res.status).toBe(200);
    expect((res.body.items as InventoryStatus[]).map((i) => [i.sku, i.known, i.available])).toEqual([
      ['BATCH-001', true, 1],
      ['NOPE-1', false, 0],
      ['BATCH-002', true, 2],
    ]);
  });

  it('refuses more than 500 SKUs, an empty list and a non-string, naming the field', async () => {
    const tooMany = await post('/v1/inventory/query', { skus: Array.from({ length: 501 }, (_, i) => `X-${i}`) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ code: 'SR_INVALID_REQUEST', problems: [{ path: '/skus' }] });
    expect(tooMany.body.message).toContain('/skus');
    expect((await post('/v1/inventory/query', { skus: [] })).body).toMatchObject({ problems: [{ path: '/skus' }] });
    expect((await post('/v1/inventory/query', { skus: ['A', 7] })).body).toMatchObject({ problems: [{ path: '/skus/1' }] });
    // A misspelt field is named as unknown (and the missing one as required).
    const misspelt = (await post('/v1/inventory/query', { sku: ['A'] })).body as { problems: Array<{ path: string }> };
    expect(misspelt.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['/sku', '/skus']));
    expect((await get('/v1/inventory')).body).toMatchObject({ code: 'SR_INVALID_REQUEST', problems: [{ path: 'sku' }] });
  });

  it('answers 401 without a token or with a wrong one, and 403 to a read token on an admin route', async () => {
    const none = await get('/v1/inventory/FRESH-1', null);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: 'SR_UNAUTHORIZED' });
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await get('/v1/inventory/FRESH-1', 'wrong-token-wrong-token')).status).toBe(401);
    expect((await post('/v1/inventory/query', { skus: ['FRESH-1'] }, null)).status).toBe(401);
    expect((await get('/v1/channels', null)).status).toBe(401);

    const forbidden = await post('/v1/test-admin-only', {}, READ);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 'SR_FORBIDDEN' });
    expect((await post('/v1/test-admin-only', {}, ADMIN)).status).toBe(200);
    expect((await get('/v1/inventory/FRESH-1', ADMIN)).status).toBe(200);
  });

  it('lists every channel with its dispatch state, success ratio and recent lag', async () => {
    const res = await get('/v1/channels');
    expect(res.status).toBe(200);
    const channels = res.body.channels as Array<Record<string, unknown>>;
    expect(channels.map((c) => c.channel)).toEqual(['web', 'market']);
    expect(channels[0]).toMatchObject({ connector: 'sandbox', successRatio: 1, throttles: 0, deadLettered: 0, throttledUntil: null });
    expect((channels[0]!.lag as { samples: number }).samples).toBeGreaterThan(0);
  });

  it('answers the same query over NATS request-reply with a read token', async () => {
    const subject = inventoryQuerySubject(hub.loaded.config.nats.subjectPrefix);
    const h = natsHeaders();
    h.set('Authorization', `Bearer ${READ}`);
    const reply = await hub.bus.nc.request(subject, JSON.stringify({ skus: ['BATCH-007', 'NOPE-2'] }), { timeout: 5000, headers: h });
    const body = reply.json<{ items: InventoryStatus[] }>();
    expect(body.items.map((i) => [i.sku, i.known, i.available])).toEqual([
      ['BATCH-007', true, 7],
      ['NOPE-2', false, 0],
    ]);
    expect(body.items[0]!.channels.map((c) => c.channel)).toEqual(['web', 'market']);
  });

  it('refuses a bus query without a valid token, and a malformed one, with { error, message }', async () => {
    const subject = inventoryQuerySubject(hub.loaded.config.nats.subjectPrefix);
    const anonymous = await hub.bus.nc.request(subject, JSON.stringify({ skus: ['BATCH-007'] }), { timeout: 5000 });
    expect(anonymous.json()).toMatchObject({ code: 'SR_UNAUTHORIZED', message: expect.any(String) });
    const h = natsHeaders();
    h.set('Authorization', `Bearer ${READ}`);
    const malformed = await hub.bus.nc.request(subject, 'not json', { timeout: 5000, headers: h });
    expect(malformed.json()).toMatchObject({ code: 'SR_INVALID_REQUEST' });
    const tooMany = await hub.bus.nc.request(subject, JSON.stringify({ skus: Array.from({ length: 501 }, (_, i) => `X${i}`) }), { timeout: 5000, headers: h });
    expect(tooMany.json<{ message: string }>()).toMatchObject({ code: 'SR_INVALID_REQUEST', message: expect.stringContaining('/skus') });
  });

  it('shows a channel held down as failing with its lag growing, then dead-lettered, then in sync again', async () => {
    const market = setup.simulators.get('market')!;
    await setStock('read:seed:down', [{ sku: 'DOWN-1', quantity: 20 }]);
    await waitFor('the seed to reach both channels', () => market.shown('DOWN-1') === 18 && setup.simulators.get('web')!.shown('DOWN-1') === 20);
    market.setFault({ kind: 'down' });
    try {
      const order: InventoryEvent = { id: 'web:order:DOWN1:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'DOWN-1', qty: 5 }] };
      await hub.publish(order);
      await waitFor('the order to commit', () => hub.ledger.isProcessed(order.id));

      const marketOf = async () => ((await get('/v1/inventory/DOWN-1')).body as unknown as InventoryStatus).channels.find((c) => c.channel === 'market')!;
      await waitFor('market to be failing', async () => (await marketOf()).state === 'failing', 10_000, 10);
      const first = await marketOf();
      expect(first).toMatchObject({ shown: 18, target: 13, versionsBehind: 1 });
      expect(first.lastError).toBeTruthy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const later = await marketOf();
      expect(later.msBehind).toBeGreaterThan(first.msBehind);

      await waitFor('market to be dead-lettered', async () => (await marketOf()).state === 'dead_lettered', 15_000);
      const status = (await get('/v1/inventory/DOWN-1')).body as unknown as InventoryStatus;
      expect(status.summary).toMatchObject({ channelsInSync: 1, channels: 2, shareInSync: 0.5, confidence: 0.5 });
      expect(status.summary.oldestUnconfirmedAt).not.toBeNull();
      expect(status.summary.maxMsBehind).toBeGreaterThan(later.msBehind);
    } finally {
      market.setFault(null);
    }
    await waitFor('market to converge after the outage', async () => (await get('/v1/inventory/DOWN-1')).body.summary !== undefined && ((await get('/v1/inventory/DOWN-1')).body as unknown as InventoryStatus).summary.channelsInSync === 2, 20_000);
    expect(market.shown('DOWN-1')).toBe(13);
  });
});
