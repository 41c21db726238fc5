import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What an order line needs beyond cumulative sums to apply cancellations and returns that arrive before
 * their confirmation, and returns with the channel's restock information. Written against `Kysely<unknown>`
 * so it keeps meaning the same after `LedgerSchema` moves on.
 *
 * - `untaken`: units confirmations asked for that stock never gave (oversold, or the SKU was unknown) and
 *   no cancellation has covered yet. Cancellations count against these first.
 * - `pending`: units asked back (cancelled, or returned to stock) when the line held nothing to give back:
 *   the next confirmations of the line take that many fewer units.
 * - `netted`: units confirmations did not take because of `pending`.
 * - `returned` / `restocked`: units returns reported, and of those the units the channel put back in stock.
 *
 * Existing rows: cancellations were counted against the oversold part first, so what is left of it is
 * `requested - taken - cancelled`; nothing was pending (a cancellation without a confirmation restored in
 * full then, so a confirmation arriving now must take in full to net to zero).
 */
export const orderLineLifecycleMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('order_line')
      .addColumn('untaken', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`untaken >= 0`))
      .addColumn('pending', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`pending >= 0`))
      .addColumn('netted', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('returned', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('restocked', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`UPDATE order_line SET untaken = GREATEST(0, requested - taken - cancelled)`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('order_line')
      .dropColumn('untaken')
      .dropColumn('pending')
      .dropColumn('netted')
      .dropColumn('returned')
      .dropColumn('restocked')
      .execute();
  },
};
