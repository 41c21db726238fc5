import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DatabaseUnavailableError } from './ledger-errors.ts';
import { preparingClient } from './preparing-client.ts';
import type { LedgerSchema } from './schema.ts';

export interface OpenDatabaseOptions {
  /** Postgres URL. Absent → embedded PGlite, meant for trials and tests. */
  url?: string;
  /** PGlite data directory when `url` is absent; absent → in memory (lost on close). */
  dataDir?: string;
  /** Postgres connections at most (default 10). Ignored by PGlite, which has one. */
  poolSize?: number;
  /** How long one connection attempt may take, ms (default 5000). */
  connectTimeoutMs?: number;
}

export interface LedgerDatabase {
  db: Kysely<LedgerSchema>;
  /**
   * The handle the event applier writes through. On Postgres it has connections of its own, so applying
   * orders never queues behind the dispatchers' state writes and the read API on a busy pool (with forty
   * channels pushing, ten shared connections made event → commit seconds long). PGlite has one
   * connection: the same handle as `db`.
   */
  writer: Kysely<LedgerSchema>;
  kind: 'postgres' | 'pglite';
  /** Closes the pool or the embedded database; the `db` handle is unusable afterwards. */
  close(): Promise<void>;
}

const INT8_OID = 20;
const UNDEFINED_DATABASE = '3D000';
const DUPLICATE_DATABASE = '42P04';

/**
 * bigint columns (versions, ids, counts) come back as JS numbers: they stay far below 2^53 and every
 * caller compares them with numbers. Set per pool, not on the global `pg.types`, so other pg users in
 * the process keep the driver's default.
 */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Opens the ledger database: Postgres when `url` is given (creating the database first when the server
 * has no such database yet), embedded PGlite otherwise. Resolves only once a connection works, so a
 * wrong URL fails at start, not at the first event. Does not migrate: call `migrateToLatest(db)`.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<LedgerDatabase> {
  return options.url !== undefined ? openPostgres(options.url, options) : openPglite(options.dataDir);
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<LedgerDatabase> {
  const target = describeTarget(url);
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  await ensureDatabase(url, target, connectTimeoutMs);
  const db = postgresHandle(url, options.poolSize ?? 10, connectTimeoutMs);
  // The applier is one loop with one batch in flight: two connections leave room for the probe that
  // settles a broken one (see the ledger writer).
  // Its statements are the same two texts batch after batch: prepared once per connection (see preparingClient).
  const writer = postgresHandle(url, WRITER_CONNECTIONS, connectTimeoutMs, { prepare: true });
  return {
    db,
    writer,
    kind: 'postgres',
    close: async () => {
      await Promise.all([db.destroy(), writer.destroy()]);
    },
  };
}

const WRITER_CONNECTIONS = 2;

function postgresHandle(url: string, max: number, connectTimeoutMs: number, options: { prepare?: boolean } = {}): Kysely<LedgerSchema> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: connectTimeoutMs,
    types: pgTypes,
    ...(options.prepare === true ? { Client: preparingClient() } : {}),
  });
  // An idle connection dropped by the server emits 'error' on the pool; without a listener that
  // would crash the process. The pool discards the connection and the next query reconnects.
  pool.on('error', () => {});
  // A connection lost while checked out (server restart mid-query) also emits 'error' on the client,
  // which the pool does not listen to then; the query itself already rejects with the same error and the
  // pool discards the dead client on release, so this listener only keeps the process alive.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<LedgerSchema>({ dialect: new PostgresDialect({ pool }) });
}

/** Connects once; when the database is missing, creates it through the server's `postgres` database. */
async function ensureDatabase(url: string, target: string, connectTimeoutMs: number): Promise<void> {
  try {
    await probe(url, connectTimeoutMs);
    return;
  } catch (err) {
    if (pgCode(err) !== UNDEFINED_DATABASE) throw unavailable(target, err);
  }
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: connectTimeoutMs });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } catch (err) {
    // Another process created it between our probe and our CREATE: that is what we wanted.
    if (pgCode(err) !== DUPLICATE_DATABASE) throw unavailable(target, err, 'could not be created');
  } finally {
    await client.end().catch(() => {});
  }
  try {
    await probe(url, connectTimeoutMs);
  } catch (err) {
    throw unavailable(target, err);
  }
}

async function probe(url: string, connectTimeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  // A failed connect leaves the client emitting 'error' later; keep it from becoming uncaught.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

async function openPglite(dataDir: string | undefined): Promise<LedgerDatabase> {
  const target = `pglite:${dataDir ?? 'memory'}`;
  let pglite: PGlite;
  try {
    pglite = new PGlite({ dataDir, parsers: { [pgliteTypes.INT8]: (value: string) => Number(value) } });
    await pglite.waitReady;
  } catch (err) {
    throw unavailable(target, err);
  }
  const db = new Kysely<LedgerSchema>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    writer: db,
    kind: 'pglite',
    async close() {
      await db.destroy();
      // Kysely only closes an instance it has initialised; a database opened and never queried stays open otherwise.
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** `host:port/database`, the part of a URL that is safe to print. */
function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

function unavailable(target: string, err: unknown, what = 'is unreachable'): DatabaseUnavailableError {
  const reason = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
  return new DatabaseUnavailableError(target, `${what} (${reason})`, { cause: err });
}

function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Drops the Postgres database `url` names (for throw-away ledgers: the demo's and load tests' per-run
 * databases). Connections still open to it are closed by the server.
 */
export async function dropDatabase(url: string, connectTimeoutMs = 5000): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** `url` with its database name replaced by `name`. */
export function withDatabaseName(url: string, name: string): string {
  const next = new URL(url);
  next.pathname = `/${encodeURIComponent(name)}`;
  return next.toString();
}
