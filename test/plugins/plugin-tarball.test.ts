import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostSdk from '../../core/sdk.ts';
import { startSimulatedHub, type SimulatedHub } from '../support/simulated-hub.ts';
import { waitFor } from '../support/test-hub.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const TEMPLATE = join(REPO, 'connectors', '_template');
const run = promisify(execFile);
const now = (): string => new Date().toISOString();

/**
 * A plugin installed the way a plugin author installs one: stockrelay packed with `npm pack`, a plugin
 * package in a temporary folder outside the repo depending on that tarball, `npm install` there. The
 * plugin then carries its OWN copy of the SDK (other classes than the hub's), which is the normal case
 * for a connector published on npm. One install serves every case below.
 */
describe('a plugin installed from a packed tarball, with its own copy of the SDK', () => {
  let dir: string;
  let plugin: string;
  let env: SimulatedHub | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stockrelay-tarball-'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
    const tarball = (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]?.filename;
    if (!tarball) throw new Error(`npm pack named no tarball: ${packed.stdout.slice(0, 200)}`);

    plugin = join(dir, 'stockrelay-connector-acme');
    mkdirSync(plugin);
    for (const file of readdirSync(TEMPLATE)) if (file.endsWith('.ts')) cpSync(join(TEMPLATE, file), join(plugin, file));
    const manifest = JSON.parse(readFileSync(join(TEMPLATE, 'package.template.json'), 'utf8')) as Record<string, unknown>;
    // Renamed, so a report naming it proves this copy (not the repo's template) was loaded.
    writeFileSync(join(plugin, 'index.ts'), readFileSync(join(plugin, 'index.ts'), 'utf8').replace("name: 'acme'", "name: 'acme-packed'"));
    const undiciVersion = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.undici;
    writeFileSync(
      join(plugin, 'package.json'),
      JSON.stringify({ ...manifest, peerDependencies: undefined, dependencies: { stockrelay: `file:../${tarball}`, undici: undiciVersion } }, null, 2),
    );
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: plugin, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
  }, 300_000);

  afterAll(async () => {
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves stockrelay to its own installed copy, whose error classes are not the hub’s', async () => {
    expect(readdirSync(join(plugin, 'node_modules', 'stockrelay', 'core'))).toContain('sdk.ts');
    // A module beside the plugin's index imports `stockrelay` exactly as the plugin does.
    const probe = join(plugin, 'sdk-probe.ts');
    writeFileSync(probe, "export * from 'stockrelay';\n");
    const copy = (await import(/* @vite-ignore */ pathToFileURL(probe).href)) as typeof hostSdk;
    expect(copy.ThrottledError).not.toBe(hostSdk.ThrottledError);
    expect(new copy.ThrottledError('429')).not.toBeInstanceOf(hostSdk.ThrottledError);
    expect(hostSdk.isThrottledError(new copy.ThrottledError('429'))).toBe(true);
  });

  it('in a running hub: a 429 pauses the channel without spending attempts, and a forged webhook gets 401', async () => {
    env = await startSimulatedHub({
      channels: [{ id: 'packed', connector: plugin }],
      skus: { 'TAR-1': 0, 'TAR-2': 0 },
      // One attempt: a throttle that spent one would dead-letter the SKU at once.
      dispatch: { maxAttempts: 1, backoffBaseMs: 20, backoffMaxMs: 200, reconcileIntervalMs: 500 },
    });
    const { hub } = env;
    expect(hub.connectors.get('packed')?.definition.name).toBe('acme-packed');
    const sim = env.simulator('packed');

    sim.setFault({ kind: 'throttle', retryAfterMs: 300 });
    await hub.publish({ id: 'tar:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'TAR-1', quantity: 12 }, { sku: 'TAR-2', quantity: 5 }] });
    // Two throttle answers in a row with one attempt allowed: only a pause (not an attempt) survives that.
    await waitFor('the channel to be throttled twice', () => (sim.stats().throttled ?? 0) >= 2, 20_000);
    sim.setFault(null);
    await waitFor('the channel to show the ledger', () => sim.shown('TAR-1') === 12 && sim.shown('TAR-2') === 5, 20_000);

    const dlq = hub.loaded.config.nats.deadLetterStream;
    expect((await hub.bus.jsm.streams.info(dlq)).state.messages).toBe(0);
    const states = await hub.ledger.getChannelStates('packed', ['TAR-1', 'TAR-2']);
    expect(states.map((s) => s.deadLetteredAt)).toEqual([null, null]);

    const body = JSON.stringify({ event: 'order.placed', orderId: 'FORGED-1', placedAt: now(), lines: [] });
    const forged = await request(`${hub.url}/webhooks/packed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-acme-hmac-sha256': Buffer.from('not the signature').toString('base64') },
      body,
    });
    await forged.body.dump();
    expect(forged.statusCode).toBe(401);

    // The genuine article still goes through: the 401 above is the signature's doing, not the route's.
    const signed = sim.signWebhook?.(Buffer.from(body)) ?? {};
    const genuine = await request(`${hub.url}/webhooks/packed`, { method: 'POST', headers: signed, body });
    await genuine.body.dump();
    expect(genuine.statusCode).toBeLessThan(300);
  });

  it('passes `stockrelay test-connector .` run from the plugin folder with the installed stockrelay', async () => {
    const bin = join(plugin, 'node_modules', 'stockrelay', 'bin', 'stockrelay.mjs');
    const { stdout } = await run(process.execPath, [bin, 'test-connector', '.'], { cwd: plugin, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    expect(stdout).toMatch(/^PASS acme-packed: \d+ passed, 0 failed, \d+ skipped$/m);
    expect(stdout).toMatch(/^✓ errors carry catalogue codes/m);
  });
});
