import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runValidate } from '../../core/config/validate-command.ts';
import { EMBEDDED_DATABASE_WARNING } from '../../core/config/validate-config.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/configs/${name}`, import.meta.url));

async function validate(name: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runValidate(fixture(name), (line) => lines.push(line), env);
  return { code, lines };
}

describe('stockrelay validate', () => {
  it('exits 0 and names the channels of a valid config, connectors and their options included', async () => {
    const { code, lines } = await validate('valid-with-plugin.json', { SR_TEST_SHOP_KEY: 'k' });
    expect(code).toBe(0);
    expect(lines).toEqual([`${fixture('valid-with-plugin.json')}: OK (2 channels: good, folder)`]);
  });

  it('prints every config problem with its path and exits 1', async () => {
    const { code, lines } = await validate('three-mistakes.json');
    expect(code).toBe(1);
    expect(lines[0]).toBe(`${fixture('three-mistakes.json')}: 3 problems`);
    expect(lines.slice(1, 4).map((l) => l.trim().split(':')[0]).sort()).toEqual(['/channels/1/id', '/channels/2/rules/share', '/natz']);
  });

  it('prints connector problems too: bad options, missing module, wrong contract', async () => {
    const { code, lines } = await validate('plugin-problems.json');
    expect(code).toBe(1);
    const text = lines.join('\n');
    expect(lines[0]).toBe(`${fixture('plugin-problems.json')}: 4 problems`);
    expect(text).toContain('/channels/1/options/apiKey: is required (connector "good")');
    expect(text).toContain('/channels/1/options/region: must be one of: "eu", "us" (got "mars") (connector "good")');
    expect(text).toMatch(/\/channels\/2\/connector: channel "ghost": connector module "\.\.\/plugins\/does-not-exist\.ts" not found/);
    expect(text).toContain('/channels/3/connector: channel "future": connector "from-the-future" was written for contract version 2');
  });

  it('checks the options of built-in connectors against their own schema', async () => {
    // minimal.json gives the sandbox connector no options, and the sandbox needs at least its base URL.
    const { code, lines } = await validate('minimal.json');
    expect(code).toBe(1);
    expect(lines.some((l) => /^ {2}\/channels\/0\/options\/\w+: .*\(connector "sandbox"\)$/.test(l))).toBe(true);
  });

  it('skips the connector of a disabled channel, and says so', async () => {
    const { lines } = await validate('plugin-problems.json');
    expect(lines).toContain('note: channel "off" is disabled: its connector was not checked');
    expect(lines.join('\n')).not.toContain('does-not-exist-either');
  });

  it('reports a missing secret once, not again as a connector option problem', async () => {
    const { code, lines } = await validate('valid-with-plugin.json');
    expect(code).toBe(1);
    expect(lines.slice(1)).toEqual(['  /channels/0/options/apiKey: secret environment variable SR_TEST_SHOP_KEY is not set']);
  });

  it('prints warnings after the verdict', async () => {
    const { code, lines } = await validate('embedded-db.json');
    expect(code).toBe(0);
    expect(lines).toContain(`warning: ${EMBEDDED_DATABASE_WARNING}`);
  });

  it('exits 1 with one line for a file that cannot be read', async () => {
    const { code, lines } = await validate('nope.json');
    expect(code).toBe(1);
    expect(lines).toEqual([`config file ${fixture('nope.json')} does not exist`]);
  });
});
