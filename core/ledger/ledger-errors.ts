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

/**
 * SQLSTATE classes and codes that say "not now" rather than "never": the server is going away or out of
 * resources, a statement ran past its timeout, a lock or a concurrent writer got in the way.
 */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53', '57P', '58'];
const TRANSIENT_SQLSTATES = new Set(['57014', '55P03', '40001', '40P01', '25P03']);

/**
 * Whether a failed ledger write may succeed unchanged later, so the events in it are valid and must wait,
 * never be dead-lettered: the database unreachable, restarting, out of connections or resources, a
 * statement timeout, or conflicts past the retry budget. Anything else (a value the database refuses,
 * a constraint) would fail again the same way. Classified by code, so it holds for errors from any driver.
 */
export function isTransientLedgerError(err: unknown): boolean {
  if (isConnectionFailure(err)) return true;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  if (code === ErrorCodes.DATABASE_UNAVAILABLE || code === ErrorCodes.LEDGER_CONFLICT) return true;
  return TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SQLSTATE_CLASSES.some((prefix) => code.startsWith(prefix));
}
