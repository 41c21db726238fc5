import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The first ledger schema. Written against `Kysely<unknown>` because a migration must keep meaning
 * the same thing after `LedgerSchema` moves on.
 */
export const initialMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('stock')
      .addColumn('sku', 'text', (c) => c.primaryKey())
      .addColumn('available', 'integer', (c) => c.notNull().check(sql`available >= 0`))
      .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('processed_event')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
      .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('oversell')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('requested', 'integer', (c) => c.notNull())
      .addColumn('available_before', 'integer', (c) => c.notNull())
      .addColumn('shortfall', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    // Newest-first listings filtered by SKU.
    await db.schema.createIndex('oversell_sku_id').on('oversell').columns(['sku', 'id']).execute();

    await db.schema
      .createTable('audit')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('before', 'integer', (c) => c.notNull())
      .addColumn('after', 'integer', (c) => c.notNull())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('clamped', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('audit_sku_id').on('audit').columns(['sku', 'id']).execute();
    await db.schema.createIndex('audit_channel_id').on('audit').columns(['channel', 'id']).execute();
    await db.schema.createIndex('audit_event_id').on('audit').column('event_id').execute();

    await db.schema
      .createTable('rejected_line')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('qty', 'integer', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('rejected_line_sku_id').on('rejected_line').columns(['sku', 'id']).execute();

    await db.schema
      .createTable('channel_state')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('pushed_version', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('pushed_quantity', 'integer')
      .addColumn('confirmed_at', 'timestamptz')
      .addColumn('dead_lettered_at', 'timestamptz')
      .addColumn('last_error', 'text')
      .addPrimaryKeyConstraint('channel_state_pk', ['channel_id', 'sku'])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['channel_state', 'rejected_line', 'audit', 'oversell', 'processed_event', 'stock']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};
