import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { openDatabase, type LedgerDatabase } from '../../core/ledger/database.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { setupTestHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';
import { startHubProcess } from '../support/hub-process.ts';

const SKUS = Array.from({ length: 10 }, (_, i) => `CRASH-${i}`);
const ORDERS = 1000;

describe('a hub killed with SIGKILL in the middle of a stream', () => {
  let setup: TestHubSetup;
  let dir: string;
  let child: ChildProcess | undefined;
  let database: LedgerDatabase | undefined;

  afterAll(async () => {
    child?.kill('SIGKILL');
    await database?.close();
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loses no order and applies none twice, and every channel converges after the restart', async () => {
    // Unacked deliveries of the killed process come back after ack_wait: keep it short here.
    setup = await setupTestHub({ nats: { ackWaitMs: 2000 }, channels: [{ id: 'alpha' }, { id: 'beta' }, { id: 'gamma', limits: { perSecond: 5, burst: 5, maxBatchSize: 4 } }] });
    dir = await mkdtemp(join(tmpdir(), 'stockrelay-crash-'));
    const configFile = join(dir, 'hub.json');
    await writeFile(configFile, JSON.stringify({ ...setup.config, http: { host: '127.0.0.1', port: 0 } }));

    const bus = await NatsBus.connect(setup.loaded.config.nats);
    await bus.ensureTopology();
    const occurredAt = new Date().toISOString();
    await bus.publishEvent({ id: 'crash:seed', type: 'stock.set', channel: 'manual', occurredAt, lines: SKUS.map((sku) => ({ sku, quantity: 1000 })) });

    child = await startHubProcess(configFile);
    database = await openDatabase({ url: setup.database.url });
    const processedCount = async () => Number((await sql<{ n: string }>`select count(*) as n from processed_event`.execute(database!.db)).rows[0]!.n);

    let published = 0;
    let killed = false;
    for (let i = 0; i < ORDERS; i++) {
      await bus.publishEvent({ id: `alpha:order:C${i}:confirmed`, type: 'order.confirmed', channel: i % 2 ? 'alpha' : 'beta', occurredAt: new Date().toISOString(), lines: [{ sku: SKUS[i % SKUS.length]!, qty: 1 }] });
      published += 1;
      if (!killed && published === 400) {
        // Let the hub get well into the stream, then kill it without warning.
        await waitFor('the hub to be applying orders', async () => (await processedCount()) > 150, 20_000, 10);
        child.kill('SIGKILL');
        killed = true;
      }
    }
    expect(killed).toBe(true);
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child!.once('exit', resolve));
    const beforeRestart = await processedCount();
    expect(beforeRestart).toBeLessThan(ORDERS + 1);

    child = await startHubProcess(configFile);
    await waitFor('every order to be processed', async () => {
      return (await processedCount()) === ORDERS + 1;
    }, 60_000, 500);

    const ledger = new Ledger(database.db);
    const levels = await ledger.getLevels(SKUS);
    for (const sku of SKUS) expect(levels.get(sku)?.available).toBe(1000 - ORDERS / SKUS.length);
    const orderAudits = Number((await sql<{ n: string }>`select count(*) as n from audit where event_type = 'order.confirmed'`.execute(database.db)).rows[0]!.n);
    expect(orderAudits).toBe(ORDERS);

    await waitFor('every channel to converge', () => [...setup.simulators.values()].every((sim) => SKUS.every((sku) => sim.shown(sku) === 900)), 30_000, 100);
    await bus.close();
  }, 180_000);
});
