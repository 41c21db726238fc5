import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusRequest, BusRequestHandler } from '../../core/bus/reply-to-requests.ts';
import type { ChannelSkuState, StockLevel } from '../../core/ledger/ledger-types.ts';
import type { InventoryStatus } from '../../core/features/read/inventory-status.ts';
import { readFeature } from '../../core/features/read/read-feature.ts';
import { plainHubContext, type PlainHubContextOptions } from '../support/plain-hub-context.ts';
import { installHttpConventions } from '../../core/http/route-validation.ts';

const READ = 'read-token-for-feature-0001';
const TOKENS = { http: { tokens: [{ name: 'agent', token: READ, scope: 'read' }] } };
const updatedAt = new Date(Date.now() - 60_000);
const level = (sku: string, available: number, version: number): StockLevel => ({ sku, available, version, updatedAt });
const state = (channelId: string, sku: string, pushedVersion: number, pushedQuantity: number): ChannelSkuState => ({
  channelId,
  sku,
  pushedVersion,
  pushedQuantity,
  confirmedAt: updatedAt,
  deadLetteredAt: null,
  lastError: null,
});

/** A read feature started on a plain context, with its routes on a server of its own and its bus handler caught. */
async function startRead(options: PlainHubContextOptions) {
  let handler: BusRequestHandler | undefined;
  let subject = '';
  let stopped = false;
  const ctx = plainHubContext({
    config: TOKENS,
    ...options,
    bus: {
      respond(on, _opts, h) {
        subject = on;
        handler = h;
        return { subject: on, stop: async () => void (stopped = true) };
      },
    },
  });
  const feature = readFeature();
  await feature.start!(ctx);
  const app = Fastify();
  installHttpConventions(app, ctx.logger);
  await feature.routes!(app, ctx);
  apps.push(app);
  const ask = (headers: Record<string, string>, body: () => unknown): Promise<unknown> => {
    const request: BusRequest = { header: (name) => headers[name], json: body };
    return handler!(request);
  };
  return { ctx, feature, app, ask, subject: () => subject, stopped: () => stopped };
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('the read feature, through its context', () => {
  it('answers a SKU from the ledger reads and the channel views it was given', async () => {
    const { app } = await startRead({
      channels: [{ id: 'web' }, { id: 'market', rules: { reserve: 2 }, skus: { 'TEE-M': { sku: 'TEE-M', version: 4, confirmedVersion: 3, inFlight: true, attempts: 0, retryAt: 0, deadLettered: false, oldestPendingAt: Date.now() - 1_000, lastError: null, channelThrottledUntil: 0 } } }],
      ledger: {
        readInventory: async (channelIds, skus) => {
          expect(channelIds).toEqual(['web', 'market']);
          expect(skus).toEqual(['TEE-M']);
          return { levels: new Map([['TEE-M', level('TEE-M', 9, 4)]]), states: [state('web', 'TEE-M', 4, 9), state('market', 'TEE-M', 3, 8)] };
        },
      },
    });
    const res = await app.inject({ method: 'GET', url: '/v1/inventory/TEE-M', headers: { authorization: `Bearer ${READ}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<InventoryStatus>();
    expect(body).toMatchObject({ sku: 'TEE-M', known: true, available: 9, version: 4 });
    expect(body.channels.map((c) => [c.channel, c.state, c.target])).toEqual([
      ['web', 'in_sync', 9],
      ['market', 'pending', 7],
    ]);
  });

  it('shares one ledger statement between the reads that arrive together', async () => {
    let statements = 0;
    const { app } = await startRead({
      ledger: {
        readInventory: async (_ids, skus) => {
          statements += 1;
          return { levels: new Map(skus.map((sku) => [sku, level(sku, 1, 1)])), states: [] };
        },
      },
    });
    const headers = { authorization: `Bearer ${READ}` };
    const answers = await Promise.all(['A', 'B', 'C'].map((sku) => app.inject({ method: 'GET', url: `/v1/inventory/${sku}`, headers })));
    expect(answers.map((r) => r.json<InventoryStatus>().sku)).toEqual(['A', 'B', 'C']);
    expect(statements).toBeLessThan(3);
  });

  it('summarises every channel view at /v1/channels', async () => {
    const { app, ctx } = await startRead({ channels: [{ id: 'web', snapshot: { pending: 3, inFlight: 1 } }, { id: 'market' }] });
    ctx.metrics.attempted('web', true);
    ctx.metrics.attempted('web', false);
    const res = await app.inject({ method: 'GET', url: '/v1/channels', headers: { authorization: `Bearer ${READ}` } });
    const { channels } = res.json<{ channels: Array<{ channel: string; connector: string; pending: number; inFlight: number; successRatio: number }> }>();
    expect(channels.map((c) => c.channel)).toEqual(['web', 'market']);
    expect(channels[0]).toMatchObject({ connector: 'sandbox', pending: 3, inFlight: 1, successRatio: 0.5 });
  });

  it('refuses a read without a token, and names the field of a bad query', async () => {
    const { app } = await startRead({});
    expect((await app.inject({ method: 'GET', url: '/v1/inventory/A' })).statusCode).toBe(401);
    const bad = await app.inject({ method: 'POST', url: '/v1/inventory/query', headers: { authorization: `Bearer ${READ}` }, payload: { skus: [] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'SR_INVALID_REQUEST', problems: [{ path: '/skus' }] });
  });

  it('answers inventory queries on the bus subject of the config, with the HTTP read rules', async () => {
    const { ask, subject } = await startRead({ ledger: { readInventory: async (_ids, skus) => ({ levels: new Map(skus.map((sku) => [sku, level(sku, 5, 2)])), states: [] }) } });
    expect(subject()).toBe('inventory.query.inventory');
    expect(await ask({}, () => ({ skus: ['A'] }))).toMatchObject({ code: 'SR_UNAUTHORIZED' });
    const auth = { Authorization: `Bearer ${READ}` };
    expect(
      await ask(auth, () => {
        throw new SyntaxError('not JSON');
      }),
    ).toMatchObject({ code: 'SR_INVALID_REQUEST', message: 'the request body is not JSON' });
    expect(await ask(auth, () => ({ skus: 'A' }))).toMatchObject({ code: 'SR_INVALID_REQUEST', problems: [{ path: '/skus' }] });
    expect(await ask(auth, () => ({ skus: ['A', 'B'] }))).toMatchObject({ items: [{ sku: 'A', available: 5 }, { sku: 'B', available: 5 }] });
  });

  it('answers "unavailable" over the bus when the ledger cannot be read, and logs why', async () => {
    const { ask, ctx } = await startRead({ ledger: { readInventory: () => Promise.reject(new Error('connection refused')) } });
    expect(await ask({ Authorization: `Bearer ${READ}` }, () => ({ skus: ['A'] }))).toMatchObject({ code: 'SR_DATABASE_UNAVAILABLE', message: 'the ledger could not be read; try again' });
    expect(ctx.logged).toContainEqual(expect.objectContaining({ level: 'error', msg: 'inventory query failed' }));
  });

  it('stops answering on the bus when it stops', async () => {
    const { feature, stopped } = await startRead({});
    await feature.stop!();
    expect(stopped()).toBe(true);
  });
});
