import pg from 'pg';
import { describeError } from '../errors.ts';
import type { Logger } from '../sdk.ts';

/**
 * Which hub process pushes to which channel. Several hubs may share the ledger and the consumer
 * (work-queue style), but a channel must have one dispatcher at a time: two would each spend the
 * channel's whole rate limit and could land pushes for one SKU out of order.
 */
export interface ChannelLeases {
  /** Tries to take the lease on `channelId`; true when this process holds it now (or already did). */
  tryAcquire(channelId: string): Promise<boolean>;
  /**
   * Registers `listener`, called once each time every lease is lost at once (the database session that
   * held them ended). Afterwards no lease is held; `tryAcquire` starts a new session.
   */
  onLost(listener: () => void): void;
  /** Gives up the lease on `channelId` (another process took the channel over: it must not look held here). */
  release(channelId: string): Promise<void>;
  /** Releases every lease and ends the session. */
  close(): Promise<void>;
}

/** Leases for a single-process ledger (embedded PGlite): this process holds them all. */
export function localLeases(): ChannelLeases {
  return { tryAcquire: async () => true, onLost: () => {}, release: async () => {}, close: async () => {} };
}

/** Namespace of stockrelay's advisory locks (the first key of the two-key form). */
const LOCK_NAMESPACE = 0x5352;

/**
 * Leases as Postgres session-level advisory locks on one dedicated connection: a hub that dies or loses
 * its connection releases its channels at once, and another hub takes them at its next attempt.
 */
export function postgresLeases(url: string, logger: Logger): ChannelLeases {
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  const held = new Set<string>();
  const listeners: Array<() => void> = [];

  const lose = (session: pg.Client, reason: string): void => {
    if (client !== session) return;
    client = undefined;
    connecting = undefined;
    if (held.size === 0) return;
    logger.error('channel leases lost with their database session; this hub stops pushing until it takes them again', { channels: [...held], reason });
    held.clear();
    for (const listener of listeners) listener();
  };

  const session = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      next.on('error', (err) => lose(next, describeError(err)));
      next.on('end', () => lose(next, 'connection ended'));
      try {
        await next.connect();
      } catch (err) {
        connecting = undefined;
        throw err;
      }
      client = next;
      return next;
    })();
    return connecting;
  };

  return {
    async tryAcquire(channelId) {
      if (held.has(channelId)) return true;
      const db = await session();
      const { rows } = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_NAMESPACE, channelId]);
      if (rows[0]?.ok) held.add(channelId);
      return held.has(channelId);
    },
    onLost(listener) {
      listeners.push(listener);
    },
    async release(channelId) {
      if (!held.delete(channelId) || !client) return;
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, channelId]).catch(() => undefined);
    },
    async close() {
      const db = client;
      client = undefined;
      held.clear();
      if (!db) return;
      await db.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await db.end().catch(() => undefined);
    },
  };
}
