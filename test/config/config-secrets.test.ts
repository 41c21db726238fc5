import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { runValidate } from '../../core/config/validate-command.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';

const SHORT_TOKEN = 'SHORTCANARY-91x';
const BAD_URL = 'ftp://CANARYHOOK-77/alerts';
const BAD_ETSY_TOKEN = 'CANARY-ETSY-no-user-id';

describe('config secrets are checked after the environment is read, and never printed', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sr-secrets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an API token from the environment must have 16 characters; the problem names the field and the variable, not the value', () => {
    const result = validateConfigObject({ channels: [{ id: 'a', connector: 'sandbox' }], http: { tokens: [{ token: { env: 'READ_TOKEN' }, scope: 'read' }] } }, { READ_TOKEN: SHORT_TOKEN });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([{ path: '/http/tokens/0/token', message: expect.stringMatching(/at least 16 characters.*READ_TOKEN/) }]);
    expect(JSON.stringify(problems)).not.toContain(SHORT_TOKEN);
  });

  it('alerts.webhookUrl from the environment must be an http(s) URL; the problem names the variable, not the value', () => {
    const result = validateConfigObject({ channels: [{ id: 'a', connector: 'sandbox' }], alerts: { webhookUrl: { env: 'ALERT_URL' } } }, { ALERT_URL: BAD_URL });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([{ path: '/alerts/webhookUrl', message: expect.stringContaining('ALERT_URL') }]);
    expect(JSON.stringify(problems)).not.toContain('CANARYHOOK');
  });

  it('a plain-text token in the file that is too short is refused without quoting it', () => {
    const result = validateConfigObject({ channels: [{ id: 'a', connector: 'sandbox' }], http: { tokens: [{ token: SHORT_TOKEN, scope: 'admin' }] } }, {});
    expect(result.ok ? [] : result.problems).toEqual([{ path: '/http/tokens/0/token', message: 'must be at least 16 characters long' }]);
  });

  it('stockrelay validate shows a secret option failing its pattern by path and rule, never its value', async () => {
    const file = join(dir, 'etsy.json');
    await writeFile(file, JSON.stringify({ channels: [{ id: 'etsy-1', connector: 'etsy', options: { keystring: 'k', sharedSecret: 's', accessToken: BAD_ETSY_TOKEN, shopId: 1 } }] }));
    const lines: string[] = [];
    expect(await runValidate(file, (line) => lines.push(line), {})).toBe(1);
    const output = lines.join('\n');
    expect(output).toMatch(/\/channels\/0\/options\/accessToken: must match/);
    expect(output).not.toContain(BAD_ETSY_TOKEN);
  });

  it('stockrelay validate and start name an environment token that is too short without printing it', async () => {
    const file = join(dir, 'env-token.json');
    await writeFile(file, JSON.stringify({ channels: [{ id: 'a', connector: 'sandbox' }], http: { tokens: [{ token: { env: 'SR_TEST_SHORT_TOKEN' }, scope: 'read' }] } }));
    const lines: string[] = [];
    expect(await runValidate(file, (line) => lines.push(line), { SR_TEST_SHORT_TOKEN: SHORT_TOKEN })).toBe(1);
    expect(lines.join('\n')).toContain('SR_TEST_SHORT_TOKEN');
    expect(lines.join('\n')).not.toContain(SHORT_TOKEN);

    process.env.SR_TEST_SHORT_TOKEN = SHORT_TOKEN;
    try {
      const out: string[] = [];
      const err: string[] = [];
      expect(await main(['start', '--config', file], (l) => out.push(l), (l) => err.push(l))).toBe(1);
      const printed = [...out, ...err].join('\n');
      expect(printed).toContain('/http/tokens/0/token');
      expect(printed).not.toContain(SHORT_TOKEN);
    } finally {
      delete process.env.SR_TEST_SHORT_TOKEN;
    }
  });
});
