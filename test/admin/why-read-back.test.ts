import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { WhyReport } from '../../core/features/admin/why.ts';
import type { InventoryStatus } from '../../core/features/read/inventory-status.ts';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const READ = 'read-token-0123456789ab';
const now = (): string => new Date().toISOString();

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await main(args, (l) => out.push(l), () => {});
  return { code, out: out.join('\n') };
}

async function get<T>(hub: Hub, path: string): Promise<T> {
  const res = await request(`${hub.url}${path}`, { headers: { authorization: `Bearer ${READ}` } });
  expect(res.statusCode).toBe(200);
  return (await res.body.json()) as T;
}

describe("a channel's last read-back, next to what it confirmed", () => {
  let setup: TestHubSetup;
  let hub: Hub;
  let dir: string;
  let file: string;
  const readAt = new Date(Date.now() - 5_000);

  beforeAll(async () => {
    // No continuous read-back: the test records the read a sweep would, so nothing heals it meanwhile.
    setup = await setupTestHub({ channels: [{ id: 'web', limits: { readShare: 0 } }], dispatch: { readShare: 0 } });
    const config = { ...setup.config, http: { host: '127.0.0.1', port: 0, tokens: [{ token: READ, scope: 'read' }] } };
    const result = validateConfigObject(config);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    dir = await mkdtemp(join(tmpdir(), 'sr-readback-'));
    file = join(dir, 'stockrelay.json');
    await writeFile(file, JSON.stringify(config));
    hub = await startHub({ loaded: result.loaded });
    await hub.publish({ id: 'rb:count', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'RB-1', quantity: 10 }, { sku: 'RB-2', quantity: 4 }] });
    await waitFor('both pushed', () => setup.simulators.get('web')!.shown('RB-1') === 10 && setup.simulators.get('web')!.shown('RB-2') === 4);
    await hub.idle();
    // Someone sets RB-1 to 2 in the channel's back office, and a read-back sees it.
    setup.simulators.get('web')!.setShown('RB-1', 2);
    await hub.ledger.readBacks.recordReads('web', [{ sku: 'RB-1', shown: 2 }], readAt);
  });
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('stockrelay why prints the read-back quantity and time, and that it differs from the confirmed one', async () => {
    const { code, out } = await cli(['why', 'web', 'RB-1', '--config', file]);
    expect(code).toBe(0);
    expect(out).toContain(`read back: the channel showed 2 at ${readAt.toISOString()}, not the 10 it confirmed`);
    const json = JSON.parse((await cli(['why', 'web', 'RB-1', '--config', file, '--json'])).out) as WhyReport;
    expect(json.readBack).toEqual({ shown: 2, at: readAt.toISOString(), matchesConfirmed: false });
  });

  it('stockrelay why says when a SKU was never read back', async () => {
    const { out } = await cli(['why', 'web', 'RB-2', '--config', file]);
    expect(out).toContain('read back: never');
  });

  it('GET /v1/why answers the read-back next to the confirmed push', async () => {
    const report = await get<WhyReport>(hub, '/v1/why/web/RB-1');
    expect(report.confirmed.quantity).toBe(10);
    expect(report.readBack).toEqual({ shown: 2, at: readAt.toISOString(), matchesConfirmed: false });
    expect((await get<WhyReport>(hub, '/v1/why/web/RB-2')).readBack).toBeNull();
  });

  it('the read API gives each channel its read-back beside what it confirmed, and none where it was never read', async () => {
    const [one, two] = (await get<{ items: InventoryStatus[] }>(hub, '/v1/inventory?sku=RB-1&sku=RB-2')).items;
    expect(one!.channels[0]).toMatchObject({ channel: 'web', shown: 10, readBack: { shown: 2, readAt: readAt.toISOString() } });
    expect(two!.channels[0]!.readBack).toBeUndefined();
    const single = await get<InventoryStatus>(hub, '/v1/inventory/RB-1');
    expect(single.channels[0]!.readBack).toEqual({ shown: 2, readAt: readAt.toISOString() });
  });

  it('stockrelay stock get shows the read-back column', async () => {
    const { out } = await cli(['stock', 'get', 'RB-1', '--config', file]);
    expect(out).toMatch(/read back/);
    expect(out).toContain(`2 at ${readAt.toISOString()}`);
  });

  it('the OpenAPI document describes the read-back of both answers', async () => {
    const text = JSON.stringify(await get<unknown>(hub, '/openapi.json'));
    expect(text.match(/readBack/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });
});
