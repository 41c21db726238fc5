import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import { MigrationError } from './ledger-errors.ts';
import { initialMigration } from './migrations/0001-initial.ts';
import { connectorStateOrderLinesMigration } from './migrations/0002-connector-state-order-lines.ts';
import { channelFencingMigration } from './migrations/0003-channel-fencing.ts';
import { orderLineLifecycleMigration } from './migrations/0004-order-line-lifecycle.ts';
import { channelReadsMigration } from './migrations/0005-channel-reads.ts';
import { writeConflictMigration } from './migrations/0006-write-conflict.ts';

/**
 * Every ledger migration, by name, in the order they run. Listed in code rather than found by
 * scanning a folder so a bundled or `npx`-installed hub migrates the same way as a checkout.
 */
export const LEDGER_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': initialMigration,
  '0002-connector-state-order-lines': connectorStateOrderLinesMigration,
  '0003-channel-fencing': channelFencingMigration,
  '0004-order-line-lifecycle': orderLineLifecycleMigration,
  '0005-channel-reads': channelReadsMigration,
  '0006-write-conflict': writeConflictMigration,
});

/** A {@link MigrationProvider} over a fixed set of migrations. */
export function staticMigrationProvider(migrations: Readonly<Record<string, Migration>>): MigrationProvider {
  return { getMigrations: async () => ({ ...migrations }) };
}

/**
 * Brings the schema up to the newest migration; safe to call on every start and from several processes
 * at once (Kysely's migration lock serialises them). Throws a {@link MigrationError} naming the migration
 * that failed; the ones before it stay applied.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  migrations: Readonly<Record<string, Migration>> = LEDGER_MIGRATIONS,
): Promise<void> {
  const migrator = new Migrator({ db, provider: staticMigrationProvider(migrations) });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(migration setup)';
  throw new MigrationError(failed, { cause: error });
}
