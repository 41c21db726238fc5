import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type PubAck } from '@nats-io/jetstream';
import type { HubConfig } from '../config/config-types.ts';
import { ErrorCodes, StockrelayError } from '../errors.ts';
import { ConfigError } from '../host-errors.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import type { DeadLetter } from './dead-letter.ts';
import { fitDeadLetter } from './fit-dead-letter.ts';
import { deadLetterFilter, deadLetterSubject, inboundFilter, inboundSubject } from './subjects.ts';
import { TurnBatch } from './turn-batch.ts';

export type NatsSettings = HubConfig['nats'];
export type { DeadLetter } from './dead-letter.ts';

/** What NATS allows per message when the server does not say (its default max_payload). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room kept below the server's max payload for the headers and protocol framing. */
const DEAD_LETTER_HEADROOM = 4096;

/**
 * The hub's JetStream plumbing: the inbound stream (dedup window = Nats-Msg-Id), the dead-letter
 * stream and the durable pull consumer, created or updated to match the config at start.
 */
export class NatsBus {
  /** Inbound events published in one turn of the event loop share one socket write (see {@link TurnBatch}). */
  readonly #inbound = new TurnBatch();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly settings: NatsSettings,
  ) {}

  static async connect(settings: NatsSettings, name = 'stockrelay'): Promise<NatsBus> {
    let nc: NatsConnection;
    try {
      // No async traces: with them every request (each JetStream publish, so each inbound event) builds two
      // Error objects with stack traces up front, in case it fails; that was a sixth of the CPU a publisher
      // spends per event. Errors still carry their codes and messages.
      nc = await connect({ servers: settings.servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: true });
    } catch (err) {
      throw new StockrelayError(ErrorCodes.BUS_UNAVAILABLE, `cannot reach NATS at ${settings.servers.join(', ')}: ${(err as Error).message}`, { cause: err });
    }
    const jsm = await jetstreamManager(nc);
    return new NatsBus(nc, jetstream(nc), jsm, settings);
  }

  /**
   * Creates the streams and the consumer, or brings their settings in line with the config.
   *
   * Stream limits: the inbound stream drops events by age only (`inboundMaxAgeMs`, days by default, far
   * beyond the seconds an event waits to be applied); a size limit, when set, refuses new events instead
   * of dropping old ones, so an event never leaves the stream unapplied without a publisher hearing about
   * it. The dead-letter stream drops its oldest letters by age and size.
   */
  async ensureTopology(): Promise<void> {
    const s = this.settings;
    for (const [field, maxAge] of [['inboundMaxAgeMs', s.inboundMaxAgeMs], ['deadLetterMaxAgeMs', s.deadLetterMaxAgeMs]] as const) {
      if (maxAge > 0 && maxAge < s.duplicateWindowMs) {
        throw new ConfigError(`nats.${field} (${maxAge}) is shorter than nats.duplicateWindowMs (${s.duplicateWindowMs}); JetStream needs the max age to cover the duplicate window`, [
          { path: `/nats/${field}`, message: `must be 0 or at least nats.duplicateWindowMs (${s.duplicateWindowMs})` },
        ]);
      }
    }
    await this.ensureStream(s.stream, [inboundFilter(s.subjectPrefix)], { maxAgeMs: s.inboundMaxAgeMs, maxBytes: s.inboundMaxBytes, discard: DiscardPolicy.New });
    await this.ensureStream(s.deadLetterStream, [deadLetterFilter(s.subjectPrefix)], { maxAgeMs: s.deadLetterMaxAgeMs, maxBytes: s.deadLetterMaxBytes, discard: DiscardPolicy.Old });
    const consumer = {
      durable_name: s.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: inboundFilter(s.subjectPrefix),
      ack_wait: nanos(s.ackWaitMs),
      max_ack_pending: 20_000,
      max_deliver: -1,
    };
    try {
      await this.jsm.consumers.info(s.stream, s.consumer);
      await this.jsm.consumers.update(s.stream, s.consumer, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.consumers.add(s.stream, consumer);
    }
  }

  private async ensureStream(name: string, subjects: string[], limits: { maxAgeMs: number; maxBytes: number; discard: DiscardPolicy }): Promise<void> {
    const wanted = {
      subjects,
      duplicate_window: nanos(this.settings.duplicateWindowMs),
      max_age: nanos(limits.maxAgeMs),
      max_bytes: limits.maxBytes,
      discard: limits.discard,
    };
    try {
      const info = await this.jsm.streams.info(name);
      const c = info.config;
      if (c.duplicate_window !== wanted.duplicate_window || c.subjects.join() !== subjects.join() || c.max_age !== wanted.max_age || c.max_bytes !== wanted.max_bytes || c.discard !== wanted.discard) {
        await this.jsm.streams.update(name, wanted);
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.streams.add({ name, ...wanted, num_replicas: this.settings.replicas, storage: StorageType.File, retention: RetentionPolicy.Limits });
    }
  }

  /** Publishes an inbound event with `Nats-Msg-Id` = event id; `ack.duplicate` tells a dedup hit. */
  publishEvent(event: InventoryEvent, options: { timeoutMs?: number } = {}): Promise<PubAck> {
    const subject = inboundSubject(this.settings.subjectPrefix, event.type);
    const data = JSON.stringify(event);
    return this.#inbound.run(() => this.js.publish(subject, data, { msgID: event.id, timeout: options.timeoutMs ?? 5_000 }));
  }

  /** Publishes raw bytes to an inbound subject (used to replay dead letters and by tests of bad input). */
  publishRaw(subject: string, data: Uint8Array | string, msgID?: string): Promise<PubAck> {
    return this.js.publish(subject, data, msgID ? { msgID } : {});
  }

  /**
   * Publishes a dead letter that always fits the server's max payload (see {@link fitDeadLetter}).
   * `msgID`, when given, makes a second copy of the same letter inside the duplicate window a no-op.
   */
  async publishDeadLetter(kind: 'event' | `push.${string}`, letter: DeadLetter, options: { msgID?: string; timeoutMs?: number } = {}): Promise<PubAck> {
    const h = headers();
    // Header values are one line of text: control characters (a hostile event's, quoted in the reason) become spaces.
    h.set('Stockrelay-Reason', letter.reason.slice(0, 1024).replace(/[\u0000-\u001f\u007f]+/g, ' '));
    const maxPayload = this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    const data = fitDeadLetter(letter, maxPayload - DEAD_LETTER_HEADROOM);
    return this.js.publish(deadLetterSubject(this.settings.subjectPrefix, kind), data, {
      headers: h,
      timeout: options.timeoutMs ?? 5_000,
      ...(options.msgID !== undefined ? { msgID: options.msgID } : {}),
    });
  }

  async deleteTopology(): Promise<void> {
    for (const name of [this.settings.stream, this.settings.deadLetterStream]) {
      try {
        await this.jsm.streams.delete(name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || /not found/i.test(e?.message ?? '');
}
