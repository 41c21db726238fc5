import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../core/errors.ts';
import { openDatabase, type LedgerDatabase } from '../../core/ledger/database.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { isDatabaseUnavailable, isMigrationError } from '../../core/ledger/ledger-errors.ts';
import { LEDGER_MIGRATIONS, migrateToLatest } from '../../core/ledger/migrate.ts';
import { freshDatabase, PG_ADMIN_URL, uniqueSuffix, type FreshDatabase } from '../support/servers.ts';
import { EventFactory } from '../ledger-support/ledger-backends.ts';

async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

describe('openDatabase', () => {
  const created: string[] = [];
  afterAll(async () => {
    for (const name of created) await dropDatabase(name);
  });

  it('creates the Postgres database named in the URL when the server does not have it yet', async () => {
    const name = `sr_ledger_new_${uniqueSuffix()}`;
    created.push(name);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    const handle = await openDatabase({ url: url.toString() });
    try {
      expect(handle.kind).toBe('postgres');
      const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(handle.db);
      expect(rows[0]!.db).toBe(name);
    } finally {
      await handle.close();
    }
  });

  it('applies batches through the writer handle as prepared statements, one per statement text, with the same results', async () => {
    const name = `sr_ledger_prepared_${uniqueSuffix()}`;
    created.push(name);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    const handle = await openDatabase({ url: url.toString() });
    try {
      await migrateToLatest(handle.db);
      const f = new EventFactory();
      const ledger = new Ledger(handle.db, { writer: handle.writer });
      await ledger.applyBatch([f.set({ [f.sku('a')]: 10 })]);
      for (let i = 0; i < 7; i++) await ledger.applyBatch([f.order({ [f.sku('a')]: 1 })]);
      expect(await ledger.getLevel(f.sku('a'))).toMatchObject({ available: 3, version: 8 });
      const { rows } = await handle.writer
        .connection()
        .execute((db) => sql<{ name: string }>`select name from pg_prepared_statements where name like 'stockrelay_%'`.execute(db));
      // The batch read and the batch write, whatever the batch holds (this query itself is a third text).
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(rows.length).toBeLessThanOrEqual(3);
    } finally {
      await handle.close();
    }
  });

  it('fails with a database-unavailable error naming the server when it cannot be reached', async () => {
    const attempt = openDatabase({ url: 'postgres://postgres:secret@127.0.0.1:1/stock', connectTimeoutMs: 2000 });
    const err = await attempt.then(() => undefined, (e: unknown) => e);
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(err).toMatchObject({ code: ErrorCodes.DATABASE_UNAVAILABLE, target: '127.0.0.1:1/stock' });
    expect((err as Error).message).toContain('127.0.0.1:1/stock');
    expect((err as Error).message).not.toContain('secret');
  });

  it('keeps the embedded database in its data directory across a reopen', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sr-ledger-'));
    try {
      const f = new EventFactory();
      const first = await openDatabase({ dataDir });
      await migrateToLatest(first.db);
      await new Ledger(first.db).applyBatch([f.set({ [f.sku('a')]: 12 })]);
      await first.close();

      const second = await openDatabase({ dataDir });
      try {
        expect(second.kind).toBe('pglite');
        await migrateToLatest(second.db);
        expect(await new Ledger(second.db).getLevel(f.sku('a'))).toMatchObject({ available: 12, version: 1 });
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('migrateToLatest', () => {
  let fresh: FreshDatabase;
  let handle: LedgerDatabase;
  beforeAll(async () => {
    fresh = await freshDatabase('ledger_migrate');
    handle = await openDatabase({ url: fresh.url });
  });
  afterAll(async () => {
    await handle.close();
    await fresh.drop();
  });

  it('can run again on an up-to-date database without changing anything', async () => {
    await migrateToLatest(handle.db);
    await migrateToLatest(handle.db);
    const tables = await handle.db.introspection.getTables();
    expect(tables.map((t) => t.name).sort()).toEqual(['audit', 'channel_drift', 'channel_lease', 'channel_read', 'channel_state', 'connector_state', 'order_line', 'oversell', 'processed_event', 'rejected_line', 'stock']);
  });

  it('names the migration that failed', async () => {
    const broken = { ...LEDGER_MIGRATIONS, '9999-broken': { up: async (db: unknown) => void (await sql`select * from no_such_table`.execute(db as never)) } };
    const err = await migrateToLatest(handle.db, broken).then(() => undefined, (e: unknown) => e);
    expect(isMigrationError(err)).toBe(true);
    expect(err).toMatchObject({ code: ErrorCodes.MIGRATION_FAILED, migrationName: '9999-broken' });
    expect((err as Error).message).toContain('9999-broken');
  });
});
