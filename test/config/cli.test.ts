import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

describe('the stockrelay command line', () => {
  let setup: TestHubSetup;
  let hub: Hub;
  let dir: string;
  let configFile: string;

  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    setup = await setupTestHub({ channels: [{ id: 'web' }] });
    hub = await startHub(setup);
    dir = await mkdtemp(join(tmpdir(), 'stockrelay-cli-'));
    configFile = join(dir, 'hub.json');
    await writeFile(configFile, JSON.stringify(setup.config));
  });
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('validate prints all three mistakes of a config with their paths and exits non-zero', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ natz: {}, channels: [{ id: 'Web', connector: 'sandbox', rules: { share: 2 } }] }));
    const { code, out } = await run('validate', bad);
    expect(code).toBe(1);
    expect(out).toContain('/natz');
    expect(out).toContain('/channels/0/id');
    expect(out).toContain('/channels/0/rules/share');
  });

  it('stock set and stock adjust publish events the hub applies', async () => {
    expect((await run('stock', 'set', 'CLI-1', '12', '--config', configFile)).code).toBe(0);
    await waitFor('the set', async () => (await hub.ledger.getLevel('CLI-1'))?.available === 12);
    expect((await run('stock', 'adjust', 'CLI-1', '-5', '--config', configFile)).code).toBe(0);
    await waitFor('the adjustment', async () => (await hub.ledger.getLevel('CLI-1'))?.available === 7);
  });

  it('order publishes a multi-line order once, however often it is sent with the same id', async () => {
    await run('stock', 'set', 'CLI-2', '10', '--config', configFile);
    const first = await run('order', '--config', configFile, '--channel', 'web', '--id', 'web:order:CLI-9:confirmed', '--line', 'CLI-1:2', '--line', 'CLI-2:3');
    const again = await run('order', '--config', configFile, '--channel', 'web', '--id', 'web:order:CLI-9:confirmed', '--line', 'CLI-1:2', '--line', 'CLI-2:3');
    expect(first.out).toMatch(/stored as #\d+/);
    expect(again.out).toContain('duplicate');
    await waitFor('the order', async () => (await hub.ledger.getLevel('CLI-2'))?.available === 7);
    expect((await hub.ledger.getLevel('CLI-1'))?.available).toBe(5);
  });

  it('publish refuses a whole file when one event is invalid, naming the event and the field', async () => {
    const file = join(dir, 'events.ndjson');
    const ok = { id: 'pub-ok', type: 'stock.set', channel: 'import', occurredAt: new Date().toISOString(), lines: [{ sku: 'CLI-3', quantity: 4 }] };
    const bad = { id: 'pub-bad', type: 'stock.set', channel: 'import', occurredAt: new Date().toISOString(), lines: [{ sku: 'CLI-3', quantity: -1 }] };
    await writeFile(file, `${JSON.stringify(ok)}\n${JSON.stringify(bad)}\n`);
    const { code, err } = await run('publish', '--config', configFile, file);
    expect(code).toBe(1);
    expect(err).toContain('event #2');
    expect(err).toContain('/lines/0/quantity');
    expect(await hub.ledger.isProcessed('pub-ok')).toBe(false);
  });

  it('a malformed --line names the argument', async () => {
    const { code, err } = await run('order', '--config', configFile, '--line', 'CLI-1');
    expect(code).toBe(1);
    expect(err).toContain('--line #1 "CLI-1"');
  });
});
