import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const CHROMIUM = '/usr/bin/chromium';
const READ = 'dashboard-read-token-0123';
const OUTPUT = join(import.meta.dirname, '..', '..', 'test-output', 'dashboard');
const CHANNELS = ['web', 'market', 'outlet'];
const now = () => new Date().toISOString();

const playwright = await import('playwright-core').catch(() => undefined);
const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install chromium)` : !playwright ? 'playwright-core is not installed' : undefined;
if (missing) console.warn(`dashboard end-to-end test skipped: ${missing}`);

describe.skipIf(missing !== undefined)('live dashboard in headless Chromium', () => {
  let setup: TestHubSetup;
  let hub: Hub;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const base = await setupTestHub({ channels: CHANNELS.map((id) => ({ id, ...(id === 'outlet' ? { rules: { share: 0.5 } } : {}) })) });
    const result = validateConfigObject({ ...base.config, http: { host: '127.0.0.1', port: 0, tokens: [{ token: READ, scope: 'read' }] } });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    setup = { ...base, loaded: result.loaded };
    hub = await startHub(setup);
    browser = await playwright!.chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    await setup?.cleanup();
  });

  it('the stream refuses a missing or wrong token, and takes a read token in the query', async () => {
    const anonymous = await request(`${hub.url}/v1/stream`);
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();
    const wrong = await request(`${hub.url}/v1/stream?token=not-a-token-of-this-hub`);
    expect(wrong.statusCode).toBe(401);
    await wrong.body.dump();
    const controller = new AbortController();
    const ok = await request(`${hub.url}/v1/stream?token=${READ}`, { signal: controller.signal });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toMatch(/text\/event-stream/);
    let text = '';
    for await (const chunk of ok.body) {
      text += String(chunk);
      if (text.includes('event: snapshot')) break;
    }
    controller.abort();
    expect(text).toContain('"channels":[');
  });

  it('asks for a token, then shows every configured channel', async () => {
    await page.goto(`${hub.url}/dashboard`);
    await page.getByLabel(/API token/).waitFor();
    await page.getByLabel(/API token/).fill(READ);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('#channels article').nth(CHANNELS.length - 1).waitFor();
    const shown = await page.locator('#channels article h3').allTextContents();
    expect(shown.sort()).toEqual([...CHANNELS].sort());
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/live · updated/);
    expect(await page.locator('[data-channel="market"] .lag-p99 dd').textContent()).toBe('—');
  });

  it('updates the lag figure after orders arrive', async () => {
    await hub.publish({ id: 'dash:count', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'DASH-1', quantity: 40 }, { sku: 'DASH-2', quantity: 2 }] });
    for (let i = 1; i <= 5; i += 1) {
      await hub.publish({ id: `web:order:${i}:confirmed`, type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'DASH-1', qty: 2 }] });
    }
    // One order more than the ledger holds: the oversell feed names it.
    await hub.publish({ id: 'market:order:77:confirmed', type: 'order.confirmed', channel: 'market', occurredAt: now(), lines: [{ sku: 'DASH-2', qty: 3 }] });
    await waitFor('every channel to show the ledger', () => setup.simulators.get('market')!.shown('DASH-1') === 30 && setup.simulators.get('outlet')!.shown('DASH-1') === 15, 15_000);
    const lag = page.locator('[data-channel="market"] .lag-p99 dd');
    await expect.poll(() => lag.textContent(), { timeout: 10_000 }).toMatch(/^\d+(\.\d+)? (ms|s)$/);
    await expect.poll(() => page.locator('#oversells li').first().textContent(), { timeout: 10_000 }).toContain('DASH-2: 1 oversold on market');
    expect(await page.locator('[data-channel="market"] svg.chart rect.bar').count()).toBe(11);
  });

  it('finds a SKU by search and shows the ledger beside every channel', async () => {
    await page.getByLabel('SKU', { exact: true }).fill('DASH-1');
    await page.getByRole('button', { name: 'Look up' }).click();
    const rows = page.locator('#search-result table tbody tr');
    await rows.nth(CHANNELS.length - 1).waitFor();
    expect(await page.locator('#search-result .result-head').textContent()).toMatch(/DASH-1: ledger 30 available · version 6/);
    expect(await page.locator('#search-result tr[data-channel="outlet"] td').allTextContents()).toEqual(['15', '15', '0', 'in sync']);

    await mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(OUTPUT, 'dashboard.png'))).toBe(true);
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
