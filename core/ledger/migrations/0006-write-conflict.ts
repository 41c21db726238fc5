import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * `stockrelay_write_conflict(reason)`: raises a serialization failure (SQLSTATE 40001). A ledger batch is
 * written by one statement that checks its own optimistic locks (row counts of its version-guarded
 * writes); when one did not hold, the statement calls this to roll itself back whole, and the writer
 * reads again and retries as it does for any serialization failure. One statement without BEGIN and
 * COMMIT is atomic by itself, so a batch costs two round trips: one read, one write.
 */
export const writeConflictMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      CREATE OR REPLACE FUNCTION stockrelay_write_conflict(reason text) RETURNS integer
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = 'ledger write conflict: ' || reason;
      END
      $$`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql`DROP FUNCTION IF EXISTS stockrelay_write_conflict(text)`.execute(db);
  },
};
