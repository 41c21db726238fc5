import { ErrorCodes, StockrelayError } from '../errors.ts';

/** The database server could not be reached or opened. Names the server and database, never the password. */
export class DatabaseUnavailableError extends StockrelayError {
  override name = 'DatabaseUnavailableError';
  /** `host:port/database` for Postgres, `pglite:<dataDir or memory>` for the embedded database. */
  readonly target: string;
  constructor(target: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.DATABASE_UNAVAILABLE, `database ${target}: ${message}`, options);
    this.target = target;
  }
}

/**
 * Another writer kept changing the same rows: the batch was rolled back and retried until the retry
 * budget ran out. Nothing of the batch was committed, so redelivering it is safe.
 */
export class LedgerConflictError extends StockrelayError {
  override name = 'LedgerConflictError';
  readonly attempts: number;
  constructor(attempts: number, options?: { cause?: unknown }) {
    super(ErrorCodes.LEDGER_CONFLICT, `ledger batch still conflicted after ${attempts} attempts; nothing was committed`, options);
    this.attempts = attempts;
  }
}

/** A schema migration failed; the database is left at the last migration that succeeded. */
export class MigrationError extends StockrelayError {
  override name = 'MigrationError';
  readonly migrationName: string;
  constructor(migrationName: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(ErrorCodes.MIGRATION_FAILED, `ledger migration "${migrationName}" failed${reason}`, options);
    this.migrationName = migrationName;
  }
}

export const isDatabaseUnavailable = (err: unknown): err is DatabaseUnavailableError => err instanceof DatabaseUnavailableError;
export const isLedgerConflict = (err: unknown): err is LedgerConflictError => err instanceof LedgerConflictError;
export const isMigrationError = (err: unknown): err is MigrationError => err instanceof MigrationError;
