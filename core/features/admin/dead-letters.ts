import type { PubAck, StoredMsg } from '@nats-io/jetstream';
import type { DeadLetter, NatsBus } from '../../bus/nats-bus.ts';
import { deadLetterFilter, deadLetterSubject, inboundSubject, isDeadLetterSubject, pushDeadLetterFilter, pushLetterChannel, typeFromSubject } from '../../bus/subjects.ts';
import { ReplayRefusedError } from '../../internal.ts';
import { EVENT_TYPES, type EventType } from '../../events/event-types.ts';

export type DeadLetterKind = DeadLetter['kind'];

/** One message of the dead-letter stream, as an operator sees it. */
export interface DeadLetterRecord {
  /** Stream sequence: the letter's id for show, replay and discard. */
  seq: number;
  subject: string;
  kind: DeadLetterKind;
  /** Push: the channel that could not be updated. Event: the channel the event named, when readable. */
  channelId: string | null;
  /** Push: the SKU. Event: null. */
  sku: string | null;
  /** Event: the id of the event (its idempotency key), when readable. Push: null. */
  eventId: string | null;
  reason: string;
  /** When the hub gave up (ISO 8601). */
  at: string;
  /** When the stream stored the letter (ISO 8601). */
  storedAt: string;
  /** The whole letter as published. */
  letter: DeadLetter;
}

export interface ListDeadLettersOptions {
  kind?: DeadLetterKind;
  /** Push letters of this channel, and event letters whose event names this channel. */
  channel?: string;
  /** Start after this stream sequence (the `next` of the previous page). */
  after?: number;
  /** Letters per page, 1..500 (default 50). */
  limit?: number;
}

export interface DeadLetterPage {
  letters: DeadLetterRecord[];
  /** Pass as `after` for the next page; null when the stream has nothing further. */
  next: number | null;
  /** Letters matching the kind/channel filter in the whole stream (by subject; event letters filtered by channel are not counted). */
  total: number | null;
}

/** How deep the dead-letter stream is: event letters, and push letters per channel. */
export interface DeadLetterDepth {
  events: number;
  pushes: Record<string, number>;
}

export type ReplayResult =
  | {
      seq: number;
      kind: 'event';
      /** `republished`: back on the inbound subject; `already-applied`: the ledger has this event id. */
      outcome: 'republished' | 'already-applied';
      eventId: string | null;
      subject: string;
      /** The `Nats-Msg-Id` the replay carried. */
      msgId: string;
      /** Inbound stream sequence of the republished message (null when nothing was published). */
      streamSeq: number | null;
    }
  | {
      seq: number;
      kind: 'push';
      /** `requeued`: the channel will be pushed the ledger's current quantity; `in-sync`: it already shows it. */
      outcome: 'requeued' | 'in-sync';
      channelId: string;
      sku: string;
    };

export interface ReplayOptions {
  /**
   * Event letters only: a corrected event to publish instead of the stored payload (object or raw
   * JSON text). It takes the same path as any inbound event, so it is validated and applied once.
   */
  payload?: unknown;
}

export interface DeadLettersOptions {
  bus: NatsBus;
  /** Whether the ledger already applied an event id (decides what a dedup hit on replay means). */
  isProcessed(eventId: string): Promise<boolean>;
  /**
   * Puts (channel, SKU) pushes back in line; resolves with the SKUs queued. Only a running hub has
   * dispatchers: without it push letters cannot be replayed here.
   */
  retryPush?(channelId: string, skus: readonly string[]): Promise<string[]>;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
/** Messages read per page at most when filtering event letters by channel, so one page stays quick. */
const MAX_SCAN = 5_000;

/**
 * The dead-letter stream as an operator works with it: list, show, replay, discard.
 *
 * Replaying an event republishes it to `<prefix>.in.<type>` with `Nats-Msg-Id` = its event id, so it
 * meets the same validation and the same exactly-once ledger transaction as any inbound event: still
 * invalid, it is dead-lettered again with the reason; valid, it is applied once. The stream may still
 * hold that id in its duplicate window (the very message that was dead-lettered): when it does and the
 * ledger has not applied the event, the replay is sent again under `<event id>:replay:<seq>`, which the
 * window does not know; the ledger's idempotency record still applies the event at most once.
 *
 * Replaying a push does not resend the old quantity: the channel's dispatcher is told to push the
 * ledger's current one. A replayed or discarded letter is deleted from the stream.
 */
export class DeadLetters {
  readonly #bus: NatsBus;
  readonly #options: DeadLettersOptions;

  constructor(options: DeadLettersOptions) {
    this.#bus = options.bus;
    this.#options = options;
  }

  get #stream(): string {
    return this.#bus.settings.deadLetterStream;
  }

  get #prefix(): string {
    return this.#bus.settings.subjectPrefix;
  }

  /** A page of letters in stream order, oldest first. */
  async list(options: ListDeadLettersOptions = {}): Promise<DeadLetterPage> {
    const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(options.limit ?? DEFAULT_PAGE)));
    const filter = this.#subjectFilter(options);
    const byEventChannel = options.channel !== undefined && options.kind !== 'push';
    const letters: DeadLetterRecord[] = [];
    let seq = (options.after ?? 0) + 1;
    let scanned = 0;
    let next: number | null = null;
    for (;;) {
      const msg = await this.#bus.jsm.streams.getMessage(this.#stream, { seq, next_by_subj: filter } as unknown as { seq: number });
      if (!msg) break;
      seq = msg.seq + 1;
      scanned += 1;
      const record = toRecord(msg);
      if (this.#matches(record, options)) letters.push(record);
      if (letters.length >= limit || (byEventChannel && scanned >= MAX_SCAN)) {
        next = msg.seq;
        break;
      }
    }
    if (next !== null && !(await this.#hasAfter(next, filter))) next = null;
    return { letters, next, total: byEventChannel ? null : await this.#count(filter) };
  }

  /** One letter by stream sequence, or undefined when the stream has none there. */
  async get(seq: number): Promise<DeadLetterRecord | undefined> {
    if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
    const msg = await this.#bus.jsm.streams.getMessage(this.#stream, { seq });
    if (!msg || !isDeadLetterSubject(this.#prefix, msg.subject)) return undefined;
    return toRecord(msg);
  }

  /** Letters waiting, by kind and channel (from the stream's subject counts: one request). */
  async depth(): Promise<DeadLetterDepth> {
    const info = await this.#bus.jsm.streams.info(this.#stream, { subjects_filter: deadLetterFilter(this.#prefix) });
    const depth: DeadLetterDepth = { events: 0, pushes: {} };
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
      const channel = pushLetterChannel(this.#prefix, subject);
      if (subject === deadLetterSubject(this.#prefix, 'event')) depth.events += count;
      else if (channel !== undefined) depth.pushes[channel] = count;
    }
    return depth;
  }

  /**
   * Replays a letter (see the class comment) and, once that succeeded, deletes it. Resolves undefined
   * when there is no letter at `seq`. Throws when a push letter is replayed without a running hub.
   */
  async replay(seq: number, options: ReplayOptions = {}): Promise<ReplayResult | undefined> {
    const record = await this.get(seq);
    if (!record) return undefined;
    const result = record.kind === 'push' ? await this.#replayPush(record) : await this.#replayEvent(record, options);
    await this.discard(seq);
    return result;
  }

  /** Deletes a letter; resolves false when there was none at `seq`. */
  async discard(seq: number): Promise<boolean> {
    if (!Number.isSafeInteger(seq) || seq < 1) return false;
    // Past the stream's end the server answers an error of its own, not "not found": nothing to discard.
    const { state } = await this.#bus.jsm.streams.info(this.#stream);
    if (seq > state.last_seq) return false;
    try {
      return await this.#bus.jsm.streams.deleteMessage(this.#stream, seq);
    } catch (err) {
      if (/no message found|not found/i.test((err as Error).message ?? '')) return false;
      throw err;
    }
  }

  async #replayEvent(record: DeadLetterRecord, options: ReplayOptions): Promise<ReplayResult> {
    const original = record.letter.payload;
    const payload = options.payload !== undefined ? options.payload : original;
    const data = typeof payload === 'string' ? payload : JSON.stringify(payload ?? null);
    const parsed = typeof payload === 'string' ? tryParse(payload) : payload;
    const type = typeOf(parsed);
    const subject = type ? inboundSubject(this.#prefix, type) : inboundOrigin(record.letter.subject, this.#prefix) ?? inboundSubject(this.#prefix, 'order.confirmed');
    const eventId = idOf(parsed) ?? (options.payload === undefined && typeof record.letter.msgId === 'string' ? record.letter.msgId : null);
    const replayId = `${eventId ?? 'dead-letter'}:replay:${record.seq}`;

    const publish = (msgId: string): Promise<PubAck> => this.#bus.publishRaw(subject, data, msgId);
    if (eventId === null) {
      const ack = await publish(replayId);
      return { seq: record.seq, kind: 'event', outcome: 'republished', eventId, subject, msgId: replayId, streamSeq: ack.duplicate ? null : ack.seq };
    }
    const ack = await publish(eventId);
    if (!ack.duplicate) return { seq: record.seq, kind: 'event', outcome: 'republished', eventId, subject, msgId: eventId, streamSeq: ack.seq };
    if (await this.#options.isProcessed(eventId)) {
      return { seq: record.seq, kind: 'event', outcome: 'already-applied', eventId, subject, msgId: eventId, streamSeq: null };
    }
    const again = await publish(replayId);
    return { seq: record.seq, kind: 'event', outcome: 'republished', eventId, subject, msgId: replayId, streamSeq: again.duplicate ? null : again.seq };
  }

  async #replayPush(record: DeadLetterRecord): Promise<ReplayResult> {
    const { channelId, sku } = record;
    if (!channelId || !sku) throw new ReplayRefusedError(`dead letter #${record.seq} is a push letter without a channel or SKU; discard it instead`);
    if (!this.#options.retryPush) {
      throw new ReplayRefusedError(
        `dead letter #${record.seq} is a push to "${channelId}": only the running hub can push it again (it sends the ledger's current quantity). ` +
          'Replay it through the hub (stockrelay dead-letters replay <seq> --hub <url> --token <admin token>), or let the hub\'s reconcile pass retry it.',
      );
    }
    const queued = await this.#options.retryPush(channelId, [sku]);
    return { seq: record.seq, kind: 'push', outcome: queued.includes(sku) ? 'requeued' : 'in-sync', channelId, sku };
  }

  #subjectFilter(options: ListDeadLettersOptions): string {
    if (options.kind === 'event') return deadLetterSubject(this.#prefix, 'event');
    if (options.kind === 'push') return options.channel !== undefined ? deadLetterSubject(this.#prefix, `push.${options.channel}`) : pushDeadLetterFilter(this.#prefix);
    return deadLetterFilter(this.#prefix);
  }

  #matches(record: DeadLetterRecord, options: ListDeadLettersOptions): boolean {
    if (options.kind !== undefined && record.kind !== options.kind) return false;
    if (options.channel !== undefined && record.channelId !== options.channel) return false;
    return true;
  }

  async #hasAfter(seq: number, filter: string): Promise<boolean> {
    const msg = await this.#bus.jsm.streams.getMessage(this.#stream, { seq: seq + 1, next_by_subj: filter } as unknown as { seq: number });
    return msg !== null;
  }

  async #count(filter: string): Promise<number> {
    const info = await this.#bus.jsm.streams.info(this.#stream, { subjects_filter: filter });
    return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  }
}

function toRecord(msg: StoredMsg): DeadLetterRecord {
  let letter: DeadLetter;
  try {
    letter = msg.json<DeadLetter>();
  } catch {
    letter = { kind: msg.subject.includes('.dlq.push.') ? 'push' : 'event', reason: 'unreadable dead letter', payload: msg.string(), at: msg.time.toISOString() };
  }
  const kind: DeadLetterKind = letter.kind === 'push' ? 'push' : 'event';
  const payload = letter.payload;
  const eventChannel = isObject(payload) && typeof payload.channel === 'string' ? payload.channel : null;
  return {
    seq: msg.seq,
    subject: msg.subject,
    kind,
    channelId: kind === 'push' ? (typeof letter.channelId === 'string' ? letter.channelId : null) : eventChannel,
    sku: kind === 'push' && typeof letter.sku === 'string' ? letter.sku : null,
    eventId: kind === 'event' ? (idOf(payload) ?? (typeof letter.msgId === 'string' ? letter.msgId : null)) : null,
    reason: typeof letter.reason === 'string' ? letter.reason : '',
    at: typeof letter.at === 'string' ? letter.at : msg.time.toISOString(),
    storedAt: msg.time.toISOString(),
    letter,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): string | null {
  return isObject(value) && typeof value.id === 'string' && value.id.length > 0 ? value.id : null;
}

function typeOf(value: unknown): EventType | null {
  const type = isObject(value) ? value.type : undefined;
  return typeof type === 'string' && (EVENT_TYPES as readonly string[]).includes(type) ? (type as EventType) : null;
}

/** The inbound subject a letter came from, when it is one of this prefix. */
function inboundOrigin(subject: unknown, prefix: string): string | null {
  return typeof subject === 'string' && typeFromSubject(prefix, subject) !== undefined ? subject : null;
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
