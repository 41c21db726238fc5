import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What the channels were seen to show, beside what they confirmed:
 *
 * - `channel_read`: per (channel, SKU) the quantity the last read-back found and when. `stockrelay why`
 *   and the read API show it next to the confirmed quantity.
 * - `channel_drift`: one row per (channel, SKU) found showing something other than its rules give for the
 *   ledger: what was read, what was expected at which ledger version, when, and what the healing push
 *   then made the channel show (`pushed_*`, null until the push is confirmed).
 */
export const channelReadsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('channel_read')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('shown', 'integer', (c) => c.notNull())
      .addColumn('read_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('channel_read_pk', ['channel_id', 'sku'])
      .execute();
    await db.schema
      .createTable('channel_drift')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('shown', 'integer', (c) => c.notNull())
      .addColumn('expected', 'integer', (c) => c.notNull())
      .addColumn('ledger_version', 'bigint', (c) => c.notNull())
      .addColumn('read_at', 'timestamptz', (c) => c.notNull())
      .addColumn('pushed_quantity', 'integer')
      .addColumn('pushed_at', 'timestamptz')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    // Newest-first listings per channel and SKU; open (unhealed) rows are found by the same index.
    await db.schema.createIndex('channel_drift_channel_sku_id').on('channel_drift').columns(['channel_id', 'sku', 'id']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('channel_drift').ifExists().execute();
    await db.schema.dropTable('channel_read').ifExists().execute();
  },
};
