import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, type TestHubSetup } from '../support/test-hub.ts';

const ADMIN = 'edge-admin-token-0123456789';
const READ = 'edge-read-token-0123456789';
const METRICS = 'edge-metrics-token-0123456789';

async function hubWith(http: Record<string, unknown>): Promise<{ setup: TestHubSetup; hub: Hub }> {
  const base = await setupTestHub({ channels: [{ id: 'edge' }] });
  const config = { ...base.config, http: { host: '127.0.0.1', port: 0, tokens: [{ token: ADMIN, scope: 'admin' }, { token: READ, scope: 'read' }, { token: METRICS, scope: 'metrics' }], ...http } };
  const checked = validateConfigObject(config);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  const setup = { ...base, loaded: checked.loaded };
  return { setup, hub: await startHub(setup) };
}

const get = async (hub: Hub, path: string, token?: string): Promise<number> => {
  const res = await fetch(`${hub.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
  await res.body?.cancel();
  return res.status;
};

describe('the HTTP edge, metrics protected', () => {
  let env: { setup: TestHubSetup; hub: Hub };
  beforeAll(async () => {
    env = await hubWith({ protectMetrics: true });
  });
  afterAll(async () => {
    await env?.hub.stop();
    await env?.setup.cleanup();
  });

  it('/metrics and /healthz need a metrics or admin token when protectMetrics is on', async () => {
    for (const path of ['/metrics', '/healthz']) {
      expect(await get(env.hub, path), path).toBe(401);
      expect(await get(env.hub, path, READ), path).toBe(403);
      expect(await get(env.hub, path, METRICS), path).toBe(200);
      expect(await get(env.hub, path, ADMIN), path).toBe(200);
    }
  });

  it('a metrics token reads nothing else', async () => {
    expect(await get(env.hub, '/v1/inventory/SKU-1', METRICS)).toBe(403);
    expect(await get(env.hub, '/v1/dead-letters', METRICS)).toBe(403);
  });

  it('/v1/stream takes a read token in the URL but refuses an admin token there', async () => {
    const open = (query: string, headers: Record<string, string> = {}) => fetch(`${env.hub.url}/v1/stream${query}`, { headers, signal: AbortSignal.timeout(10_000) });
    const read = await open(`?token=${READ}`);
    expect(read.status).toBe(200);
    await read.body?.cancel();
    const admin = await open(`?token=${ADMIN}`);
    expect(admin.status).toBe(403);
    expect(((await admin.json()) as { message: string }).message).not.toContain(ADMIN);
    const adminHeader = await open('', { authorization: `Bearer ${ADMIN}` });
    expect(adminHeader.status).toBe(200);
    await adminHeader.body?.cancel();
  });

  it('DELETE of a dead letter past the end of the stream answers 404', async () => {
    const res = await fetch(`${env.hub.url}/v1/dead-letters/999999`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('SR_DEAD_LETTER_NOT_FOUND');
  });
});

describe('the HTTP edge, defaults', () => {
  let env: { setup: TestHubSetup; hub: Hub };
  beforeAll(async () => {
    env = await hubWith({});
  });
  afterAll(async () => {
    await env?.hub.stop();
    await env?.setup.cleanup();
  });

  it('/metrics and /healthz stay open unless protectMetrics is on', async () => {
    expect(await get(env.hub, '/metrics')).toBe(200);
    expect(await get(env.hub, '/healthz')).toBe(200);
  });
});
