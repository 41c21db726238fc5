import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Durable connector state, what each order line actually took from stock, and the indexes retention
 * prunes by. Written against `Kysely<unknown>` so it keeps meaning the same after `LedgerSchema` moves on.
 */
export const connectorStateOrderLinesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // Small per-channel key-value state of connectors (rotated refresh tokens, quota usage).
    await db.schema
      .createTable('connector_state')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('connector_state_pk', ['channel_id', 'key'])
      .execute();

    // One row per (channel, order, SKU): what confirmations asked for and took, what cancellations
    // asked back and restored. Cumulative, so partial and repeated cancellations never restore more
    // than was taken. bigint: sums of many events' lines may pass 2^31 even though each line cannot.
    await db.schema
      .createTable('order_line')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('order_id', 'text', (c) => c.notNull())
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('requested', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('taken', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`taken >= 0`))
      .addColumn('cancelled', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('restored', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`restored >= 0`))
      .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('order_line_pk', ['channel', 'order_id', 'sku'])
      .execute();

    // Retention deletes the oldest rows in small batches; without these each batch would scan the table.
    await db.schema.createIndex('processed_event_processed_at').on('processed_event').column('processed_at').execute();
    await db.schema.createIndex('audit_created_at').on('audit').column('created_at').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('audit_created_at').ifExists().execute();
    await db.schema.dropIndex('processed_event_processed_at').ifExists().execute();
    await db.schema.dropTable('order_line').ifExists().execute();
    await db.schema.dropTable('connector_state').ifExists().execute();
  },
};
