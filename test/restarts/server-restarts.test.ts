import { execSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

// These tests stop the machine's NATS and PostgreSQL servers, so they run on their own, after the main
// suite (vitest.restarts.config.ts), and always start the servers again before they end.
const START_NATS = 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log';
const STOP_NATS = 'start-stop-daemon --stop --oknodo --exec /usr/sbin/nats-server --retry 5';
const PG_CLUSTER = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main';

const ensureServers = (): void => {
  execSync(START_NATS);
  execSync(`pg_isready -h 127.0.0.1 -q || ${PG_CLUSTER} start`, { shell: '/bin/bash' });
};
const now = () => new Date().toISOString();

describe('the hub across server restarts', () => {
  let setup: TestHubSetup;
  let hub: Hub;

  beforeAll(async () => {
    setup = await setupTestHub({ channels: [{ id: 'web' }] });
    hub = await startHub(setup);
  });
  afterEach(() => ensureServers());
  afterAll(async () => {
    ensureServers();
    await hub?.stop();
    await setup?.cleanup();
  });

  it('keeps consuming after NATS restarts, losing no order', async () => {
    await hub.publish({ id: 'nr:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'NR-1', quantity: 100 }] });
    await waitFor('the seed', async () => (await hub.ledger.getLevel('NR-1'))?.available === 100);
    execSync(STOP_NATS);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    execSync(START_NATS);
    for (let i = 0; i < 20; i++) {
      const order = { id: `web:order:NR${i}:confirmed`, type: 'order.confirmed' as const, channel: 'web', occurredAt: now(), lines: [{ sku: 'NR-1', qty: 1 }] };
      await waitFor(`order ${i} to be stored`, () => hub.publish(order).then(() => true, () => false), 30_000, 200);
    }
    await waitFor('every order after the restart', async () => (await hub.ledger.getLevel('NR-1'))?.available === 80, 30_000);
    await waitFor('the channel', () => setup.simulators.get('web')!.shown('NR-1') === 80);
  });

  it('applies what queued in JetStream while PostgreSQL was down, each order once', async () => {
    await hub.publish({ id: 'pr:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'PR-1', quantity: 100 }] });
    await waitFor('the seed', async () => (await hub.ledger.getLevel('PR-1'))?.available === 100);
    execSync(`${PG_CLUSTER} stop -m fast`, { shell: '/bin/bash' });
    for (let i = 0; i < 30; i++) await hub.publish({ id: `web:order:PR${i}:confirmed`, type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'PR-1', qty: 1 }] });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    execSync(`${PG_CLUSTER} start`, { shell: '/bin/bash' });
    const level = async () => (await hub.ledger.getLevel('PR-1').catch(() => undefined))?.available;
    await waitFor('every order after the restart', async () => (await level()) === 70, 60_000, 200);
    await waitFor('the channel', () => setup.simulators.get('web')!.shown('PR-1') === 70, 30_000);
    const orders = (await hub.ledger.listAudit({ sku: 'PR-1', limit: 100 })).filter((a) => a.eventType === 'order.confirmed');
    expect(orders).toHaveLength(30);
  });
});
