import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../core/features/alerts/alert-types.ts';
import { alertsFeature, type AlertsFeature } from '../../core/features/alerts/alerts-feature.ts';
import { installHttpConventions } from '../../core/http/route-validation.ts';
import type { EventOutcome } from '../../core/ledger/ledger-types.ts';
import { plainHubContext, type PlainHubContext, type PlainHubContextOptions } from '../support/plain-hub-context.ts';

const READ = 'read-token-for-alerts-feature';
/** Evaluations as often as the config allows; nothing below depends on how many happen. */
const ALERTS = { evaluateIntervalMs: 100, windowMs: 60_000, syncLagP99Ms: 5_000, minSuccessRate: 0.99, oversell: true, deadLetterDepth: 1, backlog: 10_000 };

const running: AlertsFeature[] = [];
afterEach(async () => {
  for (const feature of running.splice(0)) await feature.stop!();
});

/** An alerts feature started on a plain context whose `alerts` slice is the feature's own board, as the hub wires it. */
async function startAlerts(options: PlainHubContextOptions = {}): Promise<{ feature: AlertsFeature; ctx: PlainHubContext }> {
  const feature = alertsFeature();
  const ctx = plainHubContext({ ...options, config: { alerts: ALERTS, http: { tokens: [{ name: 'agent', token: READ, scope: 'read' }] } }, alerts: feature.board });
  await feature.start!(ctx);
  running.push(feature);
  return { feature, ctx };
}

const oversellFrom = (channel: string): EventOutcome => ({
  eventId: `${channel}:order:1:confirmed`,
  status: 'applied',
  changes: [],
  oversells: [{ eventId: `${channel}:order:1:confirmed`, channel, sku: 'TEE-M', requested: 3, availableBefore: 1, shortfall: 2 }],
  rejectedLines: [],
});
const firing = (feature: AlertsFeature, id: string): Alert | undefined => feature.board.list().find((a) => a.id === id && a.firing);

describe('the alerts feature, through its context', () => {
  it('shows no alert on its board before it starts', () => {
    const feature = alertsFeature();
    expect(feature.board.list()).toEqual([]);
    expect(feature.board.evaluatedAt).toBeNull();
  });

  it('fires on an oversell it hears of through the change notifications, and lists it at /v1/alerts', async () => {
    const { feature, ctx } = await startAlerts({ channels: [{ id: 'web' }, { id: 'market' }] });
    ctx.commit([], [oversellFrom('market')]);
    await vi.waitFor(() => expect(firing(feature, 'oversell:market')).toMatchObject({ kind: 'oversell', severity: 'critical', value: 1 }), { timeout: 10_000 });

    const app = Fastify();
    installHttpConventions(app, ctx.logger);
    await feature.routes!(app, ctx);
    const res = await app.inject({ method: 'GET', url: '/v1/alerts', headers: { authorization: `Bearer ${READ}` } });
    await app.close();
    const body = res.json<{ evaluatedAt: string | null; alerts: Alert[] }>();
    expect(body.evaluatedAt).not.toBeNull();
    expect(body.alerts.map((a) => a.id)).toContain('oversell:market');
  });

  it('reads dead-letter depth and the consumer backlog from the context, and reports them as metrics', async () => {
    const { feature, ctx } = await startAlerts({
      deadLetters: { depth: async () => ({ events: 2, pushes: { web: 1 } }) },
      bus: { backlog: async () => 25_000 },
    });
    await vi.waitFor(() => expect(firing(feature, 'consumer_backlog')).toMatchObject({ value: 25_000, threshold: 10_000 }), { timeout: 10_000 });
    expect(firing(feature, 'dead_letters')).toMatchObject({ value: 2 });
    expect(firing(feature, 'dead_letters:web')).toMatchObject({ channel: 'web', value: 1 });
    const metrics = await ctx.metrics.registry.metrics();
    expect(metrics).toMatch(/dead_letter_depth\{channel="web"\} 1/);
    expect(metrics).toMatch(/consumer_backlog 25000/);
  });

  it('fires sync lag when a channel view holds a change unconfirmed beyond the threshold', async () => {
    const { feature } = await startAlerts({ channels: [{ id: 'web', snapshot: { pending: 1, oldestPendingAt: Date.now() - 60_000 } }] });
    await vi.waitFor(() => expect(firing(feature, 'sync_lag:web')?.value).toBeGreaterThan(5_000), { timeout: 10_000 });
  });

  it('keeps a dead-letter alert firing while the depth cannot be read, and says why in the log', async () => {
    let depth: () => Promise<{ events: number; pushes: Record<string, number> }> = async () => ({ events: 0, pushes: { web: 3 } });
    const { feature, ctx } = await startAlerts({ deadLetters: { depth: () => depth() } });
    await vi.waitFor(() => expect(firing(feature, 'dead_letters:web')).toBeDefined(), { timeout: 10_000 });
    depth = () => Promise.reject(new Error('NATS is away'));
    await vi.waitFor(() => expect(ctx.logged).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'alerts: reading the dead-letter stream failed' })), { timeout: 10_000 });
    expect(firing(feature, 'dead_letters:web')).toBeDefined();
  });

  it('stops listening to change notifications when it stops', async () => {
    const { feature, ctx } = await startAlerts();
    expect(ctx.listeners()).toBe(1);
    await feature.stop!();
    expect(ctx.listeners()).toBe(0);
  });
});
