import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../core/errors.ts';
import { openDatabase, type LedgerDatabase } from '../../core/ledger/database.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { isDatabaseUnavailable, isLedgerConflict } from '../../core/ledger/ledger-errors.ts';
import { migrateToLatest } from '../../core/ledger/migrate.ts';
import { freshDatabase, type FreshDatabase } from '../support/servers.ts';
import { EventFactory } from '../ledger-support/ledger-backends.ts';

/**
 * Another process changes a row between the ledger's read and its write: the raw client below updates
 * the row and holds its lock until the ledger's UPDATE is seen waiting on it, then commits.
 */
describe('ledger optimistic lock on postgres', () => {
  let fresh: FreshDatabase;
  let handle: LedgerDatabase;
  let rival: pg.Client;
  /** The backend of the ledger's statement seen waiting on the rival's lock. */
  let waitingPid = 0;

  beforeAll(async () => {
    fresh = await freshDatabase('ledger_conflict');
    handle = await openDatabase({ url: fresh.url });
    await migrateToLatest(handle.db);
  });
  afterAll(async () => {
    await handle.close();
    await fresh.drop();
  });
  beforeEach(async () => {
    rival = new pg.Client({ connectionString: fresh.url });
    await rival.connect();
  });
  afterEach(async () => {
    await rival.end();
  });

  /** Starts `apply` while the rival holds an uncommitted change to `sku`; once `apply` waits on the row, runs `then` (default: commit). */
  async function racedWithRival<T>(sku: string, apply: () => Promise<T>, then: () => Promise<unknown> = () => rival.query('COMMIT')): Promise<T> {
    await rival.query('BEGIN');
    await rival.query('UPDATE stock SET available = available - 1, version = version + 1 WHERE sku = $1', [sku]);
    const result = apply();
    result.catch(() => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await rival.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (rows.length > 0) {
        waitingPid = rows[0]!.pid;
        break;
      }
      if (Date.now() > deadline) throw new Error('the ledger never waited on the rival row lock');
      await new Promise((r) => setTimeout(r, 10));
    }
    await then();
    return result;
  }

  it('rolls back and reapplies the batch on the row as the other writer left it', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    let conflicts = 0;
    const ledger = new Ledger(handle.db, { onConflict: () => conflicts++ });
    await ledger.applyBatch([f.set({ [sku]: 10 })]);

    const [outcome] = await racedWithRival(sku, () => ledger.applyBatch([f.order({ [sku]: 2 })]));

    expect(conflicts).toBe(1);
    expect(outcome!.changes).toMatchObject([{ before: 9, available: 7, version: 3 }]);
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 7, version: 3 });
    expect(await ledger.listAudit({ sku })).toHaveLength(2);
  });

  it('gives up with a ledger conflict error after its retries and commits nothing of the batch', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    const ledger = new Ledger(handle.db, { maxConflictRetries: 0 });
    await ledger.applyBatch([f.set({ [sku]: 10 })]);
    const order = f.order({ [sku]: 2 });

    const err = await racedWithRival(sku, () => ledger.applyBatch([order])).then(() => undefined, (e: unknown) => e);

    expect(isLedgerConflict(err)).toBe(true);
    expect(err).toMatchObject({ code: ErrorCodes.LEDGER_CONFLICT, attempts: 1 });
    expect(await ledger.isProcessed(order.id)).toBe(false);
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 9, version: 2 });
  });

  it('reports a connection lost mid-batch as database unavailable, having committed nothing', async () => {
    const f = new EventFactory();
    const sku = f.sku('a');
    const ledger = new Ledger(handle.db);
    await ledger.applyBatch([f.set({ [sku]: 10 })]);
    const order = f.order({ [sku]: 2 });

    const err = await racedWithRival(
      sku,
      () => ledger.applyBatch([order]),
      async () => {
        await rival.query('SELECT pg_terminate_backend($1)', [waitingPid]);
        await rival.query('ROLLBACK');
      },
    ).then(() => undefined, (e: unknown) => e);

    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(err).toMatchObject({ code: ErrorCodes.DATABASE_UNAVAILABLE });
    expect(await ledger.isProcessed(order.id)).toBe(false);
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 10, version: 1 });
  });
});
