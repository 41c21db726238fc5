import type { Kysely } from 'kysely';
import type { ConnectorStateStore } from '../sdk.ts';
import { ConnectorStateError } from './ledger-errors.ts';
import type { LedgerSchema } from './schema.ts';

/** Largest value, in UTF-8 bytes, as the SDK promises connectors (64 KiB). */
export const MAX_CONNECTOR_STATE_VALUE_BYTES = 64 * 1024;
/** Longest key, in characters: keys are names chosen by the connector, not data. */
export const MAX_CONNECTOR_STATE_KEY_LENGTH = 200;
/** Keys under this prefix are the host's own (the order catch-up cursor); a connector's store refuses them. */
export const HOST_STATE_KEY_PREFIX = 'stockrelay:';

/**
 * A channel's connector state in the ledger database (`connector_state`), so rotated refresh tokens and
 * quota usage survive restarts and move with the channel when another hub takes it over. Every call is
 * one statement; `set` resolves after the row is committed. Keys and values with a NUL character are
 * refused up front (PostgreSQL text cannot hold one), as are values over 64 KiB, with an error naming the key.
 */
export class DatabaseConnectorState implements ConnectorStateStore {
  readonly #db: Kysely<LedgerSchema>;
  readonly #channelId: string;
  readonly #host: boolean;

  /** `owner: 'host'`: the hub's own keys of the channel (under {@link HOST_STATE_KEY_PREFIX}); default the connector's. */
  constructor(db: Kysely<LedgerSchema>, channelId: string, owner: 'connector' | 'host' = 'connector') {
    this.#db = db;
    this.#channelId = channelId;
    this.#host = owner === 'host';
  }

  async get(key: string): Promise<string | undefined> {
    this.#checkKey(key);
    const row = await this.#db
      .selectFrom('connector_state')
      .select('value')
      .where('channel_id', '=', this.#channelId)
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    this.#checkKey(key);
    if (typeof value !== 'string') throw new ConnectorStateError(this.#channelId, key, `value must be a string (got ${value === null ? 'null' : typeof value})`);
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_CONNECTOR_STATE_VALUE_BYTES) {
      throw new ConnectorStateError(this.#channelId, key, `value is ${bytes} bytes, more than the ${MAX_CONNECTOR_STATE_VALUE_BYTES} allowed`);
    }
    if (value.includes('\u0000')) throw new ConnectorStateError(this.#channelId, key, 'value contains a NUL character');
    await this.#db
      .insertInto('connector_state')
      .values({ channel_id: this.#channelId, key, value, updated_at: new Date() })
      .onConflict((oc) => oc.columns(['channel_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), updated_at: eb.ref('excluded.updated_at') })))
      .execute();
  }

  async delete(key: string): Promise<void> {
    this.#checkKey(key);
    await this.#db.deleteFrom('connector_state').where('channel_id', '=', this.#channelId).where('key', '=', key).execute();
  }

  #checkKey(key: string): void {
    if (typeof key !== 'string' || key.length === 0) throw new ConnectorStateError(this.#channelId, String(key), 'key must be a non-empty string');
    if (key.length > MAX_CONNECTOR_STATE_KEY_LENGTH) throw new ConnectorStateError(this.#channelId, key, `key is longer than ${MAX_CONNECTOR_STATE_KEY_LENGTH} characters`);
    if (key.includes('\u0000')) throw new ConnectorStateError(this.#channelId, key, 'key contains a NUL character');
    if (key.startsWith(HOST_STATE_KEY_PREFIX) !== this.#host) {
      throw new ConnectorStateError(this.#channelId, key, this.#host ? `host keys start with "${HOST_STATE_KEY_PREFIX}"` : `keys starting with "${HOST_STATE_KEY_PREFIX}" are kept by the hub itself`);
    }
  }
}
