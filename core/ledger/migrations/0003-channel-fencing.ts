import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What a channel's pusher must remember across restarts and takeovers, beyond the confirmed version:
 *
 * - `channel_lease`: one monotonic epoch per channel, bumped by every process that starts pushing it.
 *   Channel-state writes carry the writer's epoch and the database refuses them once a newer holder
 *   exists, so a former pusher (its lease session gone, its process still running) cannot record
 *   confirmations over the new one's.
 * - `channel_state.write_until`: a write of this SKU was sent and may still land on the channel until
 *   then (set before the call, cleared by a confirmation). A new holder verifies such SKUs instead of
 *   trusting a later write over them.
 * - `channel_state.not_listed_*`: the channel said it has no listing for the SKU; `not_listed_config` is
 *   the fingerprint of the channel's connector and options when it said so (a new config clears it).
 * - `channel_state.revision_*`: what is left of a SKU's daily revision budget (eBay) and when.
 */
export const channelFencingMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('channel_lease')
      .addColumn('channel_id', 'text', (c) => c.primaryKey())
      .addColumn('epoch', 'bigint', (c) => c.notNull())
      .addColumn('acquired_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema
      .alterTable('channel_state')
      .addColumn('write_until', 'timestamptz')
      .addColumn('not_listed_at', 'timestamptz')
      .addColumn('not_listed_reason', 'text')
      .addColumn('not_listed_config', 'text')
      .addColumn('revision_tokens', 'double precision')
      .addColumn('revision_at', 'timestamptz')
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('channel_state')
      .dropColumn('write_until')
      .dropColumn('not_listed_at')
      .dropColumn('not_listed_reason')
      .dropColumn('not_listed_config')
      .dropColumn('revision_tokens')
      .dropColumn('revision_at')
      .execute();
    await db.schema.dropTable('channel_lease').ifExists().execute();
  },
};
