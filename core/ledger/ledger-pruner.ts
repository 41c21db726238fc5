import type { Kysely } from 'kysely';
import type { HubConfig } from '../config/config-types.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../sdk.ts';
import type { LedgerSchema } from './schema.ts';

const DAY_MS = 86_400_000;
/** Rows deleted per statement: small enough that a prune never holds locks or the pool for long. */
const DEFAULT_BATCH_ROWS = 1_000;
/** Pause between two batches, so a large backlog of expired rows is deleted beside the hot path, not instead of it. */
const BATCH_PAUSE_MS = 20;

export interface LedgerPrunerOptions {
  /** Processed-event records older than this are deleted; undefined: never. */
  processedEventMaxAgeMs: number | undefined;
  /** Audit rows older than this are deleted; undefined: never (the default). */
  auditMaxAgeMs: number | undefined;
  /** Interval between two prunes, ms. */
  intervalMs: number;
  batchRows?: number;
  logger: Logger;
}

/**
 * How long an idempotency record must live: never less than the longest time the stream can still deliver
 * the message that made it, or the same event would be applied twice.
 *
 * The consumer redelivers without limit (`max_deliver: -1`), so "ack wait × max deliveries" gives no bound;
 * the inbound stream's max age does: a message is delivered, first or again, only while it is in the stream,
 * at most `inboundMaxAgeMs` after it was published, and its record is written after that publish. A record
 * older than max age + duplicate window + one day (clock skew between hub, NATS and PostgreSQL) can no longer
 * be hit by a delivery. Beyond that, `processedEventRetentionDays` covers the other source of repeats: a
 * channel re-sending an old order (webhook retries, order polls) after the duplicate window, which JetStream
 * stores as a new message. With no max age on the stream (0) nothing is ever pruned.
 */
export function processedEventMaxAgeMs(config: { nats: Pick<HubConfig['nats'], 'inboundMaxAgeMs' | 'duplicateWindowMs'>; ledger: Pick<HubConfig['ledger'], 'processedEventRetentionDays'> }): number | undefined {
  if (config.nats.inboundMaxAgeMs === 0) return undefined;
  const deliverable = config.nats.inboundMaxAgeMs + config.nats.duplicateWindowMs + DAY_MS;
  return Math.max(config.ledger.processedEventRetentionDays * DAY_MS, deliverable);
}

/**
 * Deletes expired idempotency records and (when configured) audit rows in the background, in small batches
 * that skip rows another hub is deleting at the same moment. A prune that fails (database unavailable) is
 * logged and tried again at the next interval.
 */
export class LedgerPruner {
  readonly #db: Kysely<LedgerSchema>;
  readonly #options: LedgerPrunerOptions;
  readonly #batchRows: number;
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(db: Kysely<LedgerSchema>, options: LedgerPrunerOptions) {
    this.#db = db;
    this.#options = options;
    this.#batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  }

  start(): this {
    if (this.#options.processedEventMaxAgeMs === undefined && this.#options.auditMaxAgeMs === undefined) return this;
    const tick = () => {
      if (this.#running || this.#stopping.signal.aborted) return;
      this.#running = this.pruneOnce()
        .catch((err: unknown) => this.#options.logger.warn('ledger prune failed; retrying at the next interval', { error: describeError(err) }))
        .finally(() => (this.#running = undefined));
    };
    this.#timer = setInterval(tick, this.#options.intervalMs);
    this.#timer.unref();
    tick();
    return this;
  }

  /** Deletes every row expired now, batch by batch; resolves with the counts (early, when stopping). */
  async pruneOnce(now = Date.now()): Promise<{ processedEvents: number; audit: number }> {
    const { processedEventMaxAgeMs, auditMaxAgeMs } = this.#options;
    const processedEvents = processedEventMaxAgeMs === undefined ? 0 : await this.#prune('processed_event', new Date(now - processedEventMaxAgeMs));
    const audit = auditMaxAgeMs === undefined ? 0 : await this.#prune('audit', new Date(now - auditMaxAgeMs));
    if (processedEvents + audit > 0) this.#options.logger.info('ledger pruned', { processedEvents, audit });
    return { processedEvents, audit };
  }

  async #prune(table: 'processed_event' | 'audit', cutoff: Date): Promise<number> {
    let total = 0;
    while (!this.#stopping.signal.aborted) {
      // Oldest first, and rows another hub's prune holds are skipped rather than waited for.
      const deleted =
        table === 'processed_event'
          ? await this.#db
              .deleteFrom('processed_event')
              .where('event_id', 'in', this.#db.selectFrom('processed_event').select('event_id').where('processed_at', '<', cutoff).orderBy('processed_at').limit(this.#batchRows).forUpdate().skipLocked())
              .executeTakeFirst()
          : await this.#db
              .deleteFrom('audit')
              .where('id', 'in', this.#db.selectFrom('audit').select('id').where('created_at', '<', cutoff).orderBy('created_at').limit(this.#batchRows).forUpdate().skipLocked())
              .executeTakeFirst();
      const count = Number(deleted.numDeletedRows);
      total += count;
      if (count < this.#batchRows) break;
      await new Promise((resolve) => setTimeout(resolve, BATCH_PAUSE_MS));
    }
    return total;
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}

/** The hub's pruner, from its config. */
export function startLedgerPruner(db: Kysely<LedgerSchema>, config: Pick<HubConfig, 'nats' | 'ledger'>, logger: Logger): LedgerPruner {
  return new LedgerPruner(db, {
    processedEventMaxAgeMs: processedEventMaxAgeMs(config),
    auditMaxAgeMs: config.ledger.auditRetentionDays === undefined ? undefined : config.ledger.auditRetentionDays * DAY_MS,
    intervalMs: config.ledger.pruneIntervalMs,
    logger,
  }).start();
}
