import { describe, expect, it } from 'vitest';
import { runValidate } from '../../core/config/validate-command.ts';

const EXAMPLE = new URL('../../config/example.json', import.meta.url).pathname;
const ENV = {
  DATABASE_URL: 'postgres://stockrelay@127.0.0.1:5432/stockrelay',
  STOCKRELAY_READ_TOKEN: 'read-token-0123456789',
  STOCKRELAY_ADMIN_TOKEN: 'admin-token-0123456789',
  SHOPIFY_ACCESS_TOKEN: 'shpat_example',
  SHOPIFY_WEBHOOK_SECRET: 'whsec',
  AMAZON_LWA_CLIENT_ID: 'amzn1.application-oa2-client.example',
  AMAZON_LWA_CLIENT_SECRET: 'secret',
  AMAZON_LWA_REFRESH_TOKEN: 'Atzr|example',
};

describe('the example config in the README', () => {
  it('validates, connector options included, once its secrets are in the environment', async () => {
    const lines: string[] = [];
    expect(await runValidate(EXAMPLE, (l) => lines.push(l), ENV)).toBe(0);
  });

  it('names every missing secret with its path when the environment is empty', async () => {
    const lines: string[] = [];
    expect(await runValidate(EXAMPLE, (l) => lines.push(l), {})).toBe(1);
    const text = lines.join('\n');
    for (const name of Object.keys(ENV)) expect(text).toContain(name);
    expect(text).toContain('/channels/0/options/accessToken');
  });
});
