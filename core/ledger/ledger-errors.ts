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

/** A connector tried to store a key or value its durable state cannot hold. Names the channel and the key. */
export class ConnectorStateError extends StockrelayError {
  override name = 'ConnectorStateError';
  readonly channelId: string;
  readonly key: string;
  constructor(channelId: string, key: string, message: string) {
    super(ErrorCodes.CONNECTOR_STATE_INVALID, `channel "${channelId}": connector state key ${JSON.stringify(key.slice(0, 200))}: ${message}`);
    this.channelId = channelId;
    this.key = key;
  }
}

export const isDatabaseUnavailable = (err: unknown): err is DatabaseUnavailableError => err instanceof DatabaseUnavailableError;
export const isLedgerConflict = (err: unknown): err is LedgerConflictError => err instanceof LedgerConflictError;
export const isMigrationError = (err: unknown): err is MigrationError => err instanceof MigrationError;

/** Node socket errors and Postgres error classes that mean the connection, not the statement, failed. */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * Whether `err` says the database went away (server restart, dropped socket, pool could not connect)
 * rather than that a statement was wrong. Such a failure is worth retrying once the server is back.
 */
export function isConnectionFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = 'code' in err ? String((err as { code: unknown }).code) : '';
  if (CONNECTION_ERRNOS.has(code) || CONNECTION_SQLSTATES.has(code) || code.startsWith('08')) return true;
  const message = err instanceof Error ? err.message : '';
  // pg reports a socket closed under it, or a pool that could not connect in time, without a code.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}
