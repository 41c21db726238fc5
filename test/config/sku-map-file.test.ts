import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load-config.ts';
import { runValidate } from '../../core/config/validate-command.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sr-skumap-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A config with one Walmart channel (its map: hub SKU → Walmart SKU) whose `skus` is `skus`. */
async function config(skus: unknown): Promise<string> {
  const file = join(dir, 'my.json');
  await writeFile(file, JSON.stringify({ channels: [{ id: 'wm', connector: 'walmart', options: { clientId: 'id', clientSecret: 'secret-secret', skus } }] }));
  return file;
}

async function validate(file: string): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await runValidate(file, (l) => lines.push(l), {});
  return { code, text: lines.join('\n') };
}

describe('a SKU map kept in a mapping file', () => {
  it('is read in place of {"file": …}, relative to the config file', async () => {
    await mkdir(join(dir, 'skus'));
    await writeFile(join(dir, 'skus', 'wm.json'), JSON.stringify({ 'TEE-M': 'WM-TEE-M' }));
    const file = await config({ file: 'skus/wm.json' });
    expect((await loadConfig(file, {})).config.channels[0]!.options.skus).toEqual({ 'TEE-M': 'WM-TEE-M' });
    expect((await validate(file)).code).toBe(0);
  });

  it('that does not exist is a problem at the reference\'s file field', async () => {
    const file = await config({ file: 'skus/missing.json' });
    const { code, text } = await validate(file);
    expect(code).toBe(1);
    expect(text).toMatch(/\/channels\/0\/options\/skus\/file: mapping file skus\/missing\.json \(.*missing\.json\) does not exist/);
    await expect(loadConfig(file, {})).rejects.toMatchObject({ problems: [{ path: '/channels/0/options/skus/file' }] });
  });

  it('that is not JSON is a problem naming its line and column', async () => {
    await writeFile(join(dir, 'wm.json'), '{\n  "A": "WM-A",\n}\n');
    const { text } = await validate(await config({ file: 'wm.json' }));
    expect(text).toMatch(/\/channels\/0\/options\/skus\/file: mapping file wm\.json .*is not valid JSON at line 3, column 1/);
  });

  it('that holds no object is a problem saying what it must hold', async () => {
    await writeFile(join(dir, 'wm.json'), '["A"]');
    const { text } = await validate(await config({ file: 'wm.json' }));
    expect(text).toMatch(/must hold one JSON object, SKU → the channel's ids for it/);
  });

  it('whose entries the connector refuses is reported at the entry, naming the mapping file', async () => {
    await writeFile(join(dir, 'wm.json'), JSON.stringify({ A: { sku: 'WM-A' } }));
    const { code, text } = await validate(await config({ file: 'wm.json' }));
    expect(code).toBe(1);
    expect(text).toMatch(/\/channels\/0\/options\/skus\/A: .*\(connector "walmart", in mapping file wm\.json\)/);
  });
});
