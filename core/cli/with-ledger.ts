import type { Kysely } from 'kysely';
import type { LoadedConfig } from '../config/config-types.ts';
import { openDatabase } from '../ledger/database.ts';
import { Ledger } from '../ledger/ledger.ts';
import type { LedgerSchema } from '../ledger/schema.ts';

/**
 * Opens the ledger database a config names for one read-mostly command and closes it afterwards.
 * Commands read the database directly, so they answer even when no hub is running.
 */
export async function withLedger<T>(loaded: LoadedConfig, run: (source: { db: Kysely<LedgerSchema>; ledger: Ledger }) => Promise<T>): Promise<T> {
  const { database } = loaded.config;
  const opened = await openDatabase({ url: database.url, dataDir: database.dataDir, poolSize: 2 });
  try {
    return await run({ db: opened.db, ledger: new Ledger(opened.db) });
  } finally {
    await opened.close();
  }
}
