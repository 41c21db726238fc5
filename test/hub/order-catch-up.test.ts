import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxOrderWebhook } from '../../connectors/sandbox/api.ts';
import { OVERLAP_MS } from '../../connectors/sandbox/order-cursor.ts';
import type { SandboxSimulator } from '../../connectors/sandbox/simulator.ts';
import { CATCH_UP_CURSOR_KEY, type Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const CHANNEL = 'shop';
const START = 100;

async function seed(hub: Hub, sku: string, quantity: number): Promise<void> {
  await hub.publish({ id: `seed:${sku}`, type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku, quantity }] });
  await waitFor(`${sku} to be seeded`, async () => (await hub.ledger.getLevel(sku))?.available === quantity);
}

async function available(hub: Hub, sku: string): Promise<number | undefined> {
  return (await hub.ledger.getLevel(sku))?.available;
}

async function storedCursor(hub: Hub): Promise<string | undefined> {
  const row = await hub.database.db.selectFrom('connector_state').select('value').where('channel_id', '=', CHANNEL).where('key', '=', CATCH_UP_CURSOR_KEY).executeTakeFirst();
  return row?.value;
}

/** The stored cursor read while no hub runs. */
async function cursorAtRest(setup: TestHubSetup): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: setup.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ value: string }>('SELECT value FROM connector_state WHERE channel_id = $1 AND key = $2', [CHANNEL, CATCH_UP_CURSOR_KEY]);
    return rows[0]?.value;
  } finally {
    await client.end();
  }
}

describe('missed-order catch-up', () => {
  let setup: TestHubSetup;
  let hub: Hub;
  let sim: SandboxSimulator;

  beforeAll(async () => {
    setup = await setupTestHub({ channels: [{ id: CHANNEL }], dispatch: { catchUpIntervalMs: 300 } });
    sim = setup.simulators.get(CHANNEL)!;
    hub = await startHub(setup);
    sim.setWebhookTarget(`${hub.url}/webhooks/${CHANNEL}`);
  }, 30_000);
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
  });

  it('an order whose webhook is lost for good reaches the ledger through the orders API', async () => {
    await seed(hub, 'CU-DROP', START);
    await sim.placeOrder([{ sku: 'CU-DROP', qty: 3 }], { drop: true });
    await waitFor('the dropped order to be counted', async () => (await available(hub, 'CU-DROP')) === START - 3);
    // The poll reports once its publishes are acknowledged, which can be after the ledger applied them.
    const published = new RegExp(`order_catchup_events_total\\{channel="${CHANNEL}"\\} [1-9]`);
    await waitFor('the poll to report what it published', async () => published.test(await hub.metrics.registry.metrics()));
    const metrics = await hub.metrics.registry.metrics();
    expect(metrics).toMatch(new RegExp(`order_catchup_polls_total\\{channel="${CHANNEL}",outcome="ok"\\} [1-9]`));
    expect(metrics).toMatch(new RegExp(`order_catchup_last_success_seconds\\{channel="${CHANNEL}"\\} [1-9]`));
  });

  it('an order found by catch-up and also delivered by webhook counts once', async () => {
    await seed(hub, 'CU-BOTH', START);
    const { orderId } = await sim.placeOrder([{ sku: 'CU-BOTH', qty: 2 }], { drop: true });
    await waitFor('catch-up to count the order', async () => (await available(hub, 'CU-BOTH')) === START - 2);
    // The channel's webhook turns up late after all, and again: the same event id, applied once.
    const order = { id: orderId, lines: [{ sku: 'CU-BOTH', qty: 2 }], createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), status: 'open' as const };
    const body = JSON.stringify({ topic: 'order.created', order } satisfies SandboxOrderWebhook);
    for (let i = 0; i < 2; i++) {
      const res = await request(`${hub.url}/webhooks/${CHANNEL}`, { method: 'POST', headers: sim.signWebhook(Buffer.from(body)), body });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    }
    // An order delivered normally is listed by the next polls too: it counts once as well.
    await sim.placeOrder([{ sku: 'CU-BOTH', qty: 1 }]);
    const polled = sim.orderQueries().length;
    await waitFor('two more catch-up polls', () => sim.orderQueries().length >= polled + 2);
    await waitFor('the ledger to settle', async () => (await hub.ledger.history.isProcessed(`${CHANNEL}:order:${orderId}:confirmed`)) && hub.backlog() === 0);
    expect(await available(hub, 'CU-BOTH')).toBe(START - 3);
  });

  it('the cursor is stored, and a restarted hub resumes from it', async () => {
    await waitFor('a stored cursor', async () => (await storedCursor(hub)) !== undefined);
    await hub.stop();
    const before = await cursorAtRest(setup);
    const asked = sim.orderQueries().length;
    hub = await startHub(setup);
    sim.setWebhookTarget(`${hub.url}/webhooks/${CHANNEL}`);
    await waitFor('the restarted hub to poll', () => sim.orderQueries().length > asked);
    const first = sim.orderQueries()[asked]!;
    // The first poll after the restart starts where the stored cursor says (one overlap before its time),
    // not "a little before now" as a hub without a cursor would.
    const stored = JSON.parse(before!) as { t: number; after?: string };
    expect(first.updatedSince).toBe(new Date(stored.after ? stored.t : stored.t - OVERLAP_MS).toISOString());

    await seed(hub, 'CU-RESTART', START);
    await sim.placeOrder([{ sku: 'CU-RESTART', qty: 4 }], { drop: true });
    await waitFor('the restarted hub to count a dropped order', async () => (await available(hub, 'CU-RESTART')) === START - 4);
  }, 30_000);
});
