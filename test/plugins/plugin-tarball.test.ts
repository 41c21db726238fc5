import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
const FIXTURE = join(REPO, 'test', 'fixtures', 'plain-js-connector');
const run = promisify(execFile);
const now = (): string => new Date().toISOString();

interface PackedFile {
  path: string;
}

/** What a command printed, whether it exited 0 or not. */
async function outcome(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/**
 * Installs the tarball into `project` the way npm lays it out, without a registry: the package extracted to
 * node_modules/stockrelay with its bin linked, and every package the lock file marks as a run-time (not dev)
 * dependency linked from this checkout's node_modules. Dev dependencies, tsx among them, are not there:
 * whatever runs below runs without them.
 */
async function installTarball(tarball: string, project: string): Promise<void> {
  const modules = join(project, 'node_modules');
  const target = join(modules, 'stockrelay');
  mkdirSync(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  for (const [key, entry] of Object.entries(lock.packages)) {
    const name = key.slice('node_modules/'.length);
    if (!key.startsWith('node_modules/') || name.includes('node_modules/') || entry.dev === true) continue;
    const installed = join(REPO, 'node_modules', name);
    if (!existsSync(installed)) continue; // an optional package for another platform
    mkdirSync(join(modules, name, '..'), { recursive: true });
    symlinkSync(realpathSync(installed), join(modules, name), 'dir');
  }
  const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  mkdirSync(join(modules, '.bin'));
  for (const [command, file] of Object.entries(manifest.bin)) {
    chmodSync(join(target, file), 0o755);
    symlinkSync(join('..', 'stockrelay', file), join(modules, '.bin', command));
  }
}

/**
 * stockrelay as a plugin author gets it: built, packed with `npm pack`, and installed from the tarball into a
 * temporary folder outside the repo, beside a connector written in plain JavaScript. The connector carries its
 * OWN copy of the SDK (other classes than the hub's), the normal case for a connector published on npm.
 * One build and one install serve every case below.
 */
describe('stockrelay packed with npm pack and installed from the tarball', () => {
  let dir: string;
  let plugin: string;
  let packed: string[];
  let env: SimulatedHub | undefined;

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'stockrelay-tarball-')));
    await run(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
    // Scripts off: the build above already ran (prepack would run it again), and npm's JSON stays alone on stdout.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
    const info = (JSON.parse(pack.stdout) as Array<{ filename: string; files: PackedFile[] }>)[0];
    if (!info) throw new Error(`npm pack named no tarball: ${pack.stdout.slice(0, 200)}`);
    packed = info.files.map((file) => file.path);

    plugin = join(dir, 'stockrelay-connector-plainjs');
    cpSync(FIXTURE, plugin, { recursive: true });
    await installTarball(join(dir, info.filename), plugin);
  }, 900_000);

  afterAll(async () => {
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds compiled JavaScript with declaration files for the SDK and the kit, and no TypeScript sources', () => {
    for (const entry of ['dist/core/sdk.js', 'dist/core/sdk.d.ts', 'dist/connectors/_kit/index.js', 'dist/connectors/_kit/index.d.ts', 'bin/stockrelay.mjs']) {
      expect(packed).toContain(entry);
    }
    expect(packed.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    // What the compiled code reads at run time, relative to itself.
    expect(packed).toContain('dist/config/stockrelay.schema.json');
    expect(packed).toContain('dist/config/demo.json');
    expect(packed).toContain('dist/core/features/dashboard/static/index.html');
    expect(packed).toContain('dist/core/ledger/migrations/0001-initial.js');
    expect(packed).toContain('dist/test/fixtures/vendor/shopify/order-create.json');
    // Every target package.json exports is in the tarball.
    const manifest = JSON.parse(readFileSync(join(plugin, 'node_modules', 'stockrelay', 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
    const targets = Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
    expect(targets.filter((target) => !packed.includes(target.replace(/^\.\//, '')))).toEqual([]);
  });

  it('lets plain node import stockrelay, stockrelay/sdk and stockrelay/kit, with no TypeScript loader there', async () => {
    const probe = [
      "const sdk = await import('stockrelay');",
      "const sdkAgain = await import('stockrelay/sdk');",
      "const kit = await import('stockrelay/kit');",
      'let tsx = "absent"; try { import.meta.resolve("tsx"); tsx = "present"; } catch {}',
      "console.log(JSON.stringify({ entry: import.meta.resolve('stockrelay'), defineConnector: typeof sdk.defineConnector, same: sdk.defineConnector === sdkAgain.defineConnector, startSimServer: typeof kit.startSimServer, tsx }));",
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: plugin });
    expect(JSON.parse(stdout)).toEqual({
      entry: pathToFileURL(join(plugin, 'node_modules', 'stockrelay', 'dist', 'core', 'sdk.js')).href,
      defineConnector: 'function',
      same: true,
      startSimServer: 'function',
      tsx: 'absent',
    });
  });

  it('gives a TypeScript author declarations that typecheck under strict NodeNext settings, library files included', async () => {
    const project = join(dir, 'typed-author');
    mkdirSync(project);
    symlinkSync(join(plugin, 'node_modules'), join(project, 'node_modules'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'typed-author', private: true, type: 'module' }));
    writeFileSync(
      join(project, 'index.ts'),
      [
        "import { defineConnector, isThrottledError, type PushResult, type StockUpdate } from 'stockrelay';",
        "import { createHttpClient, startSimServer } from 'stockrelay/kit';",
        '',
        'const push = async (updates: readonly StockUpdate[]): Promise<PushResult[]> => updates.map((u) => ({ sku: u.sku, status: "ok", quantity: u.quantity }));',
        'export const helpers = { createHttpClient, startSimServer, isThrottledError };',
        'export default defineConnector({',
        '  name: "typed",',
        '  contractVersion: 1,',
        '  optionsSchema: { type: "object" },',
        '  capabilities: { maxBatchSize: 1, rateLimit: { perSecond: 1, burst: 1 }, quantityMode: "absolute" },',
        '  create: () => ({ push }),',
        '});',
        '',
      ].join('\n'),
    );
    // skipLibCheck off: the package's own .d.ts files are checked too, as a strict author's build would.
    const compilerOptions = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(REPO, 'node_modules', '@types')] };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
    const tsc = await outcome(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], project);
    expect(tsc.stdout).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('runs `stockrelay --help` from the installed bin', async () => {
    const { stdout } = await run(join(plugin, 'node_modules', '.bin', 'stockrelay'), ['--help'], { cwd: plugin });
    expect(stdout).toMatch(/^Usage:/m);
    expect(stdout).toContain('stockrelay test-connector');
  });

  it('passes `stockrelay test-connector .` on the plain-JavaScript connector, run from its folder', async () => {
    const { code, stdout } = await outcome(join(plugin, 'node_modules', '.bin', 'stockrelay'), ['test-connector', '.'], plugin);
    expect(stdout).toMatch(/^PASS plainjs: \d+ passed, 0 failed, \d+ skipped$/m);
    expect(stdout).toMatch(/^✓ errors carry catalogue codes/m);
    expect(code).toBe(0);
  });

  it('resolves a connector package name from the config file’s folder in the compiled hub', async () => {
    const site = join(dir, 'site');
    mkdirSync(join(site, 'node_modules'), { recursive: true });
    const config = join(site, 'stockrelay.json');
    // A misspelt option: only the connector's own schema (so only the package found beside the config) knows it.
    writeFileSync(config, JSON.stringify({ channels: [{ id: 'plain-shop', connector: 'stockrelay-connector-plainjs', options: { baseUrl: 'http://127.0.0.1:9', apiKey: 'k', apikey: 'k' } }] }));
    const bin = join(plugin, 'node_modules', '.bin', 'stockrelay');

    const missing = await outcome(bin, ['validate', config], site);
    expect(missing.code).not.toBe(0);
    expect(`${missing.stdout}${missing.stderr}`).toContain('"stockrelay-connector-plainjs" not found');

    symlinkSync(plugin, join(site, 'node_modules', 'stockrelay-connector-plainjs'), 'dir');
    const found = await outcome(bin, ['validate', config], site);
    expect(found.code).not.toBe(0);
    expect(`${found.stdout}${found.stderr}`).toMatch(/apikey/);
  });

  it('loads a connector written in TypeScript only when tsx is installed beside it, and says so when not', async () => {
    writeFileSync(
      join(plugin, 'typed.ts'),
      "import type { ConnectorDefinition } from 'stockrelay';\nimport plain from './index.js';\n\nconst definition: ConnectorDefinition = plain;\nexport default definition;\n",
    );
    const bin = join(plugin, 'node_modules', '.bin', 'stockrelay');
    const without = await outcome(bin, ['test-connector', './typed.ts'], plugin);
    expect(without.code).not.toBe(0);
    expect(`${without.stdout}${without.stderr}`).toContain('npm install --save-dev tsx');

    symlinkSync(realpathSync(join(REPO, 'node_modules', 'tsx')), join(plugin, 'node_modules', 'tsx'), 'dir');
    const withTsx = await outcome(bin, ['test-connector', './typed.ts'], plugin);
    expect(withTsx.stdout).toMatch(/^PASS plainjs: \d+ passed, 0 failed, \d+ skipped$/m);
    expect(withTsx.code).toBe(0);
  });

  it('resolves stockrelay to its own installed copy, whose error classes are not the hub’s', async () => {
    // A module beside the connector imports `stockrelay` exactly as the connector does.
    const probe = join(plugin, 'sdk-probe.mjs');
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
    expect(hub.connectors.get('packed')?.definition.name).toBe('plainjs');
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
      headers: { 'content-type': 'application/json', 'x-plain-hmac-sha256': Buffer.from('not the signature').toString('base64') },
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
});
