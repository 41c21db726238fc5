import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../core/features/alerts/alert-types.ts';
import { dashboardFeature } from '../../core/features/dashboard/dashboard-feature.ts';
import { DashboardFeed } from '../../core/features/dashboard/dashboard-feed.ts';
import type { HubFeature } from '../../core/features/hub-feature.ts';
import { installHttpConventions } from '../../core/http/route-validation.ts';
import { plainHubContext, type PlainHubContextOptions } from '../support/plain-hub-context.ts';

const READ = 'read-token-for-dashboard-feature';
const ADMIN = 'admin-token-for-dashboard-feature';

const alert = (id: string, firing: boolean): Alert => ({ id, kind: 'oversell', severity: 'critical', firing, since: new Date().toISOString(), value: 1, threshold: 0, message: id });

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function feedOn(options: PlainHubContextOptions) {
  const ctx = plainHubContext({ ...options, config: { alerts: { syncLagP99Ms: 800, minSuccessRate: 0.95 } } });
  const feed = new DashboardFeed(ctx);
  cleanups.push(() => feed.stop());
  return { ctx, feed };
}

describe('the dashboard feed, through its context', () => {
  it('builds each channel\'s panel from its channel view, the dead-letter desk and the metrics', async () => {
    const { ctx, feed } = feedOn({
      channels: [{ id: 'web', snapshot: { pending: 4, inFlight: 2, deadLettered: 1, throttledUntil: 123 } }, { id: 'market' }],
      deadLetters: { depth: async () => ({ events: 3, pushes: { web: 2 } }) },
      bus: { backlog: async () => 17 },
    });
    ctx.metrics.attempted('web', true);
    const snapshot = await feed.latest();
    expect(snapshot.thresholds).toEqual({ syncLagP99Ms: 800, minSuccessRate: 0.95 });
    expect(snapshot.backlog).toBe(17);
    expect(snapshot.eventDeadLetters).toBe(3);
    expect(snapshot.channels.map((c) => c.id)).toEqual(['web', 'market']);
    expect(snapshot.channels[0]).toMatchObject({ connector: 'sandbox', pending: 4, inFlight: 2, parked: 1, throttledUntil: 123, deadLetters: 2, success: { sinceStart: 1 } });
    expect(snapshot.channels[1]).toMatchObject({ pending: 0, deadLetters: 0 });
  });

  it('lists only the firing alerts of the context\'s alert board', async () => {
    const { feed } = feedOn({ alerts: { list: () => [alert('oversell:web', true), alert('oversell:market', false)], evaluatedAt: Date.now() } });
    expect((await feed.latest()).alerts.map((a) => a.id)).toEqual(['oversell:web']);
  });

  it('keeps the last oversells, from the ledger at start and from the change notifications after', async () => {
    const { ctx, feed } = feedOn({
      ledger: { listOversells: async () => [{ id: 1, eventId: 'web:order:1:confirmed', channel: 'web', sku: 'OLD-1', requested: 2, availableBefore: 1, shortfall: 1, createdAt: new Date(Date.now() - 60_000) }] },
    });
    feed.start();
    await vi.waitFor(async () => expect((await feed.latest()).oversells.map((o) => o.sku)).toEqual(['OLD-1']));
    ctx.commit([], [{ eventId: 'market:order:2:confirmed', status: 'applied', changes: [], rejectedLines: [], oversells: [{ eventId: 'market:order:2:confirmed', channel: 'market', sku: 'NEW-1', requested: 5, availableBefore: 2, shortfall: 3 }] }]);
    expect((await feed.latest()).oversells.map((o) => o.sku)).toEqual(['NEW-1', 'OLD-1']);
  });

  it('stops listening to change notifications when it stops', () => {
    const { ctx, feed } = feedOn({});
    expect(ctx.listeners()).toBe(1);
    feed.stop();
    expect(ctx.listeners()).toBe(0);
  });
});

describe('the dashboard feature\'s routes', () => {
  async function dashboardApp(): Promise<FastifyInstance> {
    const ctx = plainHubContext({ config: { http: { tokens: [{ name: 'agent', token: READ, scope: 'read' }, { name: 'ops', token: ADMIN, scope: 'admin' }] } } });
    const feature: HubFeature = dashboardFeature();
    await feature.start!(ctx);
    const app = Fastify();
    installHttpConventions(app, ctx.logger);
    await feature.routes!(app, ctx);
    cleanups.push(() => app.close(), () => feature.stop!());
    return app;
  }

  it('serves the page without a token, under a policy that forbids anything from elsewhere', async () => {
    const app = await dashboardApp();
    const page = await app.inject({ method: 'GET', url: '/dashboard' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('refuses the stream without a token, and an admin token sent in the URL', async () => {
    const app = await dashboardApp();
    expect((await app.inject({ method: 'GET', url: '/v1/stream' })).statusCode).toBe(401);
    const inUrl = await app.inject({ method: 'GET', url: `/v1/stream?token=${ADMIN}` });
    expect(inUrl.statusCode).toBe(403);
    expect(inUrl.json().message).toContain('?token=');
  });
});
