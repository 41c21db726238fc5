import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { WhyReport } from '../../core/features/admin/why.ts';
import { main } from '../../core/cli/main.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { Hub } from '../../core/hub.ts';
import { pushed } from '../fixtures/plugins/partial-listing-connector.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const READ = 'read-token-0123456789ab';
const now = () => new Date().toISOString();

async function withTokens(setup: TestHubSetup): Promise<{ setup: TestHubSetup; file: string; dir: string }> {
  const config = { ...setup.config, http: { host: '127.0.0.1', port: 0, tokens: [{ token: READ, scope: 'read' }] } };
  const result = validateConfigObject(config);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const dir = await mkdtemp(join(tmpdir(), 'sr-why-'));
  const file = join(dir, 'stockrelay.json');
  await writeFile(file, JSON.stringify(config));
  return { setup: { ...setup, loaded: result.loaded }, file, dir };
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('why a channel shows its quantity, and stock get', () => {
  let setup: TestHubSetup | undefined;
  let hub: Hub | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await hub?.stop();
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
    hub = undefined;
    setup = undefined;
    dir = undefined;
  });

  async function start(options: Parameters<typeof setupTestHub>[0]): Promise<{ hub: Hub; setup: TestHubSetup; file: string }> {
    const prepared = await withTokens(await setupTestHub(options));
    setup = prepared.setup;
    dir = prepared.dir;
    hub = await startHub(setup);
    return { hub, setup, file: prepared.file };
  }

  it('prints the confirmed quantity, the rule and the chain of events behind it after a few orders', async () => {
    const { hub, setup, file } = await start({ channels: [{ id: 'web' }, { id: 'market', rules: { share: 0.5, reserve: 1 } }] });
    await hub.publish({ id: 'why:count', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'WHY-1', quantity: 20 }] });
    await waitFor('the count', async () => (await hub.ledger.getLevel('WHY-1'))?.version === 1);
    await hub.publish({ id: 'web:order:1:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'WHY-1', qty: 3 }] });
    await waitFor('order 1', async () => (await hub.ledger.getLevel('WHY-1'))?.version === 2);
    await hub.publish({ id: 'web:order:2:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'WHY-1', qty: 1 }] });
    await waitFor('the market channel to show 16 × 0.5 − 1', () => setup.simulators.get('market')!.shown('WHY-1') === 7);
    await hub.idle();

    const { code, out } = await cli(['why', 'market', 'WHY-1', '--config', file]);
    expect(code).toBe(0);
    expect(out).toContain('channel market (sandbox), SKU WHY-1');
    expect(out).toMatch(/shows 7, confirmed \S+, reflecting ledger version 3/);
    expect(out).toContain('rules: share 0.5, reserve 1, no max  →  max(0, floor(16 × 0.5) − 1) = 7');
    expect(out).toContain('state: in sync');
    expect(out).toContain('pending for this channel: nothing');
    const chain = out.split('\n').filter((line) => /^\s+v\d/.test(line));
    expect(chain).toHaveLength(3);
    expect(chain[0]).toMatch(/v1 .*stock\.set\s+manual\s+0 → 20\s+shown 9\s+why:count/);
    expect(chain[1]).toMatch(/v2 .*order\.confirmed\s+web\s+20 → 17\s+shown 7\s+web:order:1:confirmed/);
    expect(chain[2]).toMatch(/v3 .*order\.confirmed\s+web\s+17 → 16\s+shown 7\s+web:order:2:confirmed/);

    const json = JSON.parse((await cli(['why', 'market', 'WHY-1', '--config', file, '--json'])).out) as WhyReport;
    expect(json).toMatchObject({ state: 'in-sync', confirmed: { quantity: 7, version: 3 }, derivation: { available: 16, expected: 7, matches: true }, pending: [] });
  });

  it('shows the changes a channel has not confirmed yet, and answers over HTTP with a read token', async () => {
    const { hub, setup, file } = await start({ channels: [{ id: 'web' }, { id: 'slow' }], dispatch: { maxAttempts: 1, backoffBaseMs: 20, backoffMaxMs: 40, reconcileIntervalMs: 600_000 } });
    await hub.publish({ id: 'pend:count', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'PEND-1', quantity: 10 }] });
    await waitFor('the slow channel to show 10', () => setup.simulators.get('slow')!.shown('PEND-1') === 10);
    setup.simulators.get('slow')!.setFault({ kind: 'down' });
    await hub.publish({ id: 'web:order:9:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'PEND-1', qty: 4 }] });
    await waitFor('the push to be dead-lettered', async () => (await hub.ledger.getChannelStates('slow', ['PEND-1']))[0]?.deadLetteredAt != null, 10_000);

    const { out } = await cli(['why', 'slow', 'PEND-1', '--config', file]);
    expect(out).toMatch(/shows 10, confirmed \S+, reflecting ledger version 1/);
    expect(out).toContain('state: dead-lettered');
    expect(out).toContain('pending for this channel (ledger at version 2, channel at 1):');
    expect(out).toMatch(/v2 .*order\.confirmed\s+web\s+10 → 6\s+shown 6\s+web:order:9:confirmed/);

    const res = await request(`${hub.url}/v1/why/slow/PEND-1`, { headers: { authorization: `Bearer ${READ}` } });
    expect(res.statusCode).toBe(200);
    const report = (await res.body.json()) as WhyReport;
    expect(report.state).toBe('dead-lettered');
    expect(report.pending.map((s) => s.eventId)).toEqual(['web:order:9:confirmed']);
    expect(report.deadLettered?.lastError).toMatch(/503/);
    const unknown = await request(`${hub.url}/v1/why/slow/NOPE`, { headers: { authorization: `Bearer ${READ}` } });
    expect(unknown.statusCode).toBe(404);
    await unknown.body.dump();
    const anonymous = await request(`${hub.url}/v1/why/slow/PEND-1`);
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();

    const stock = await cli(['stock', 'get', 'PEND-1', 'NOPE', '--config', file]);
    expect(stock.code).toBe(3);
    expect(stock.out).toContain('PEND-1: 6 available, version 2');
    expect(stock.out).toContain('1/2 channels in sync');
    expect(stock.out).toMatch(/web\s+6\s+6\s+2\s+0\s+in sync/);
    expect(stock.out).toMatch(/slow\s+10\s+6\s+1\s+1 \([\d.]+ (ms|s)\)\s+dead lettered/);
    expect(stock.out).toContain('NOPE: unknown to the ledger');
  });

  it('says a channel has no listing for a SKU, with the channel\'s reason, in why and in the read API, and does not dead-letter it', async () => {
    const plugin = fileURLToPath(new URL('../fixtures/plugins/partial-listing-connector.ts', import.meta.url));
    const base = await setupTestHub({ channels: [{ id: 'web' }], dispatch: { reconcileIntervalMs: 300 } });
    const prepared = await withTokens({ ...base, config: { ...base.config, channels: [...(base.config.channels as unknown[]), { id: 'partial', connector: plugin, options: {} }] } });
    setup = prepared.setup;
    dir = prepared.dir;
    hub = await startHub(setup);
    const before = pushed.length;
    await hub.publish({ id: 'nl:count', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'UNLISTED-1', quantity: 5 }, { sku: 'LISTED-1', quantity: 7 }] });
    await waitFor('the partial channel to answer', async () => (await hub!.ledger.getChannelStates('partial', ['UNLISTED-1']))[0]?.notListed != null, 10_000);
    await hub.publish({ id: 'nl:count2', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'UNLISTED-1', quantity: 4 }] });
    await waitFor('the web channel to show the change', () => setup!.simulators.get('web')!.shown('UNLISTED-1') === 4);
    // Two reconcile passes: the SKU stays behind on this channel, and is still not pushed there again.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(pushed.slice(before).filter((u) => u.sku === 'UNLISTED-1')).toHaveLength(1);

    const { out } = await cli(['why', 'partial', 'UNLISTED-1', '--config', prepared.file]);
    expect(out).toContain('state: not listed');
    expect(out).toContain('no listing for UNLISTED-1 on this channel');

    const res = await request(`${hub.url}/v1/inventory/UNLISTED-1`, { headers: { authorization: `Bearer ${READ}` } });
    const status = (await res.body.json()) as { channels: Array<{ channel: string; state: string; notListedReason?: string }> };
    expect(status.channels.find((c) => c.channel === 'partial')).toMatchObject({ state: 'not_listed', notListedReason: 'no listing for UNLISTED-1 on this channel' });
    expect(status.channels.find((c) => c.channel === 'web')).toMatchObject({ state: 'in_sync' });
    expect((await hub.bus.jsm.streams.info(setup.loaded.config.nats.deadLetterStream)).state.messages).toBe(0);
  });
});
