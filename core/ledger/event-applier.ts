import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { describeError } from '../errors.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import { parseEvent } from '../events/validate-event.ts';
import { isTransientLedgerError } from './ledger-errors.ts';
import type { EventOutcome } from './ledger-types.ts';
import type { Logger } from '../sdk.ts';
import type { NatsBus } from '../bus/nats-bus.ts';
import { typeFromSubject } from '../bus/subjects.ts';

/**
 * Lifetime of one pull request, ms. On NATS 2.9 a pull request outlives the subscription that made it:
 * a message given back while one is still open could be sent into it, to a client no longer listening,
 * and would then wait for the ack timeout after all. Short requests bound that: a message given back at
 * stop is delayed by one request lifetime, so only live requests can receive it.
 */
const PULL_EXPIRES_MS = 2_000;
const GIVE_BACK_DELAY_MS = PULL_EXPIRES_MS + 500;

/** The ledger as the applier needs it: one transaction for a group of events. */
export interface BatchLedger {
  applyBatch(events: readonly InventoryEvent[]): Promise<EventOutcome[]>;
}

export interface EventApplierOptions {
  bus: NatsBus;
  ledger: BatchLedger;
  logger: Logger;
  /** Most events per ledger transaction. */
  maxBatchEvents: number;
  /** Called after each commit (in the next turn of the event loop, groups in commit order), before the acks, with the outcomes in stream order. */
  onCommitted(outcomes: readonly EventOutcome[], events: readonly InventoryEvent[], commitMs: number): void;
  /** Called once per event sent to the dead-letter stream. */
  onDeadLetter?(reason: string): void;
  /** Masks known secrets in a dead letter's reason before it is published or logged. */
  redact?(text: string): string;
  /** Called with `false` when the applier starts waiting for an unavailable database, `true` once a write succeeds again. */
  onLedgerAvailability?(available: boolean): void;
  /** Called at start with the number of inbound events that left the stream (max age) before being applied. */
  onExpired?(events: number): void;
  /** First wait after a transient ledger failure, ms (default 200); doubles up to `retryMaxMs`. */
  retryBaseMs?: number;
  /** Longest wait between two tries while the database is unavailable, ms (default 5000). */
  retryMaxMs?: number;
  /** Wait before an event whose dead letter could not be published comes back, ms (default 5000). */
  deadLetterRetryMs?: number;
}

type Item = { msg: JsMsg; event: InventoryEvent };
type Attempt = { kind: 'committed' } | { kind: 'stopped' } | { kind: 'refused'; error: unknown };

/**
 * Pulls inbound events from the durable consumer and applies them to the ledger in groups:
 * everything that arrived while the previous group committed goes into the next transaction,
 * so a hot SKU's orders are serialised in one writer instead of fighting over the row.
 *
 * Every message ends in exactly one way:
 * - applied (or found already applied): acked after its group committed;
 * - invalid, or refused by the database on its own: dead-lettered once, then terminated. A group the
 *   database refuses is split in halves, in stream order, until the refused event stands alone, so the
 *   valid events around it are applied without waiting for it;
 * - its dead letter could not be published: given back with a delay, alone, to be tried again;
 * - the hub stops first: given back (NAK), so another hub takes it within seconds, not after the ack timeout.
 * A database that is unavailable (connection refused, shutdown, too many connections, timeouts) is not
 * the events' fault: the applier keeps the group and retries it with bounded backoff, holding every
 * message it has received (`working`) so none is redelivered or counted against it meanwhile.
 */
export class EventApplier {
  private buffer: JsMsg[] = [];
  /** The group being applied: kept alive with the buffer while the database is unavailable. */
  private current: JsMsg[] = [];
  private wake: (() => void) | undefined;
  private messages: ConsumerMessages | undefined;
  private running = false;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private unavailableSince: number | undefined;
  /** The listeners and acks of the last group committed, which run once the next group is on its way (see {@link afterCommit}). */
  private settling: Promise<void> = Promise.resolve();
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly deadLetterRetryMs: number;

  constructor(private readonly options: EventApplierOptions) {
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
    this.deadLetterRetryMs = options.deadLetterRetryMs ?? 5_000;
  }

  async start(): Promise<void> {
    const { bus } = this.options;
    await this.reportExpired();
    const consumer = await bus.js.consumers.get(bus.settings.stream, bus.settings.consumer);
    this.running = true;
    this.messages = await consumer.consume({
      max_messages: Math.max(256, this.options.maxBatchEvents * 2),
      expires: PULL_EXPIRES_MS,
      callback: (msg) => {
        if (!this.running) {
          // Arrived while stopping: not ours to apply any more.
          msg.nak(GIVE_BACK_DELAY_MS);
          return;
        }
        this.buffer.push(msg);
        this.wake?.();
      },
    });
    this.loop = this.run();
  }

  /**
   * The inbound stream drops events by age only; an event can leave it unapplied only when no hub consumed
   * for longer than that age. Say so loudly at start: messages below the stream's first sequence that the
   * consumer never acknowledged are gone.
   */
  private async reportExpired(): Promise<void> {
    const { bus } = this.options;
    try {
      const [stream, consumer] = await Promise.all([bus.jsm.streams.info(bus.settings.stream), bus.jsm.consumers.info(bus.settings.stream, bus.settings.consumer)]);
      const expired = stream.state.first_seq - (consumer.ack_floor.stream_seq + 1);
      if (expired <= 0) return;
      this.options.logger.error('inbound events left the stream before they were applied (older than nats.inboundMaxAgeMs); replay them from their source', {
        stream: bus.settings.stream,
        fromSequence: consumer.ack_floor.stream_seq + 1,
        toSequence: stream.state.first_seq - 1,
        events: expired,
      });
      this.options.onExpired?.(expired);
    } catch (err) {
      this.options.logger.warn('could not check the inbound stream for expired events', { error: describeError(err) });
    }
  }

  /** Events received but not yet committed. */
  backlog(): number {
    return this.buffer.length + this.current.length;
  }

  /** Since when (epoch ms) the applier has been waiting for an unavailable database, or undefined. */
  ledgerUnavailableSince(): number | undefined {
    return this.unavailableSince;
  }

  /**
   * Stops pulling, lets a transaction in progress finish (and be acked), and gives every other message
   * received back to the server (NAK), so another hub applies it within seconds instead of after the ack
   * timeout (see {@link GIVE_BACK_DELAY_MS} for why not at the very same instant).
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    await this.settling;
    for (const msg of this.buffer.splice(0)) msg.nak(GIVE_BACK_DELAY_MS);
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.buffer.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      this.current = this.buffer.splice(0, this.options.maxBatchEvents);
      try {
        await this.applyGroup(this.current);
      } catch (err) {
        // applyGroup gives each message its fate itself; reaching here is a bug. Give the group back
        // rather than leave it unacknowledged until the ack timeout.
        this.options.logger.error('event group failed unexpectedly; giving it back', { error: describeError(err), events: this.current.length });
        for (const msg of this.current) msg.nak(this.deadLetterRetryMs);
      }
      this.current = [];
    }
  }

  private async applyGroup(group: readonly JsMsg[]): Promise<void> {
    const { bus } = this.options;
    const valid: Item[] = [];
    const rejected: Promise<void>[] = [];
    for (const msg of group) {
      const parsed = parseEvent(msg.data, typeFromSubject(bus.settings.subjectPrefix, msg.subject));
      if (parsed.ok) valid.push({ msg, event: parsed.event });
      else rejected.push(this.deadLetter(msg, parsed.reason));
    }
    await Promise.all(rejected);
    await this.applyInOrder(valid);
  }

  /**
   * Applies `items` in stream order. When the database refuses the whole, the halves are applied one after
   * the other, down to the single event it refuses, which is dead-lettered: about 2·log2(n) transactions
   * for one poison event in a group of n, and every valid event applied in its order.
   */
  private async applyInOrder(items: readonly Item[]): Promise<void> {
    if (items.length === 0) return;
    const attempt = await this.applyUntilDone(items);
    if (attempt.kind === 'committed') return;
    if (attempt.kind === 'stopped') {
      for (const item of items) item.msg.nak(GIVE_BACK_DELAY_MS);
      return;
    }
    if (items.length === 1) {
      await this.deadLetter(items[0]!.msg, `the ledger refused the event: ${describeError(attempt.error)}`);
      return;
    }
    const half = Math.ceil(items.length / 2);
    await this.applyInOrder(items.slice(0, half));
    await this.applyInOrder(items.slice(half));
  }

  /** One transaction for `items`, retried for as long as the failure is transient and the applier runs. */
  private async applyUntilDone(items: readonly Item[]): Promise<Attempt> {
    const events = items.map((item) => item.event);
    for (let attempt = 0; ; attempt++) {
      if (this.stopping.signal.aborted) return { kind: 'stopped' };
      const started = performance.now();
      let outcomes: EventOutcome[];
      try {
        outcomes = await this.options.ledger.applyBatch(events);
      } catch (err) {
        if (!isTransientLedgerError(err)) return { kind: 'refused', error: err };
        this.markUnavailable(err, items.length);
        const ceiling = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(attempt, 20));
        // Jitter: several hubs waiting for the same database must not all come back at the same instant.
        await this.holdFor(ceiling / 2 + (Math.random() * ceiling) / 2);
        continue;
      }
      this.markAvailable();
      this.afterCommit(items, outcomes, events, performance.now() - started);
      return { kind: 'committed' };
    }
  }

  /**
   * Tells the listeners of a commit, then acks its messages, in the next turn of the event loop rather than at
   * once: by then the next group has been parsed and its first statement sent, so this work (a fifth of the
   * applier's CPU under load: changes to every dispatcher and the other hubs, one ack per message) runs while
   * the database works on that statement instead of between the two. Groups are told in commit order, and
   * `stop` waits for the last one. A crash before the acks only redelivers events the ledger already holds.
   */
  private afterCommit(items: readonly Item[], outcomes: EventOutcome[], events: InventoryEvent[], commitMs: number): void {
    this.settling = new Promise<void>((resolve) =>
      setImmediate(() => {
        try {
          this.options.onCommitted(outcomes, events, commitMs);
        } catch (err) {
          // The commit stands whatever a listener does; not acking would only bring the events back as duplicates.
          this.options.logger.error('commit listener failed', { error: describeError(err) });
        }
        for (const item of items) item.msg.ack();
        resolve();
      }),
    );
  }

  /**
   * Waits `ms`, ending early when the applier stops, and keeps every message received from being
   * redelivered meanwhile: `working()` restarts its ack timer, so a long outage neither duplicates
   * deliveries nor lets another hub take events this one still holds.
   */
  private async holdFor(ms: number): Promise<void> {
    const step = Math.max(50, Math.min(ms, this.options.bus.settings.ackWaitMs / 3));
    const until = Date.now() + ms;
    while (!this.stopping.signal.aborted) {
      for (const msg of this.current) msg.working();
      for (const msg of this.buffer) msg.working();
      const left = until - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(step, left), this.stopping.signal);
    }
  }

  private markUnavailable(err: unknown, events: number): void {
    if (this.unavailableSince !== undefined) return;
    this.unavailableSince = Date.now();
    this.options.logger.warn('ledger database unavailable; holding events until it is back', { error: describeError(err), events });
    this.options.onLedgerAvailability?.(false);
  }

  private markAvailable(): void {
    if (this.unavailableSince === undefined) return;
    const downMs = Date.now() - this.unavailableSince;
    this.unavailableSince = undefined;
    this.options.logger.info('ledger database available again', { downMs });
    this.options.onLedgerAvailability?.(true);
  }

  /**
   * Sends `msg` to the dead-letter stream with `reason`, then terminates it. The letter's message id is the
   * original's stream sequence, so a second attempt for the same message (a TERM lost with a connection)
   * stores no second copy. When the letter cannot be published the event is never dropped: it is given
   * back alone, with a delay, and tried again.
   */
  private async deadLetter(msg: JsMsg, rawReason: string): Promise<void> {
    const reason = this.options.redact?.(rawReason) ?? rawReason;
    const { bus } = this.options;
    const text = new TextDecoder('utf-8', { fatal: false }).decode(msg.data);
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {
      // keep the raw text: the point of a dead letter is to show what arrived
    }
    try {
      await bus.publishDeadLetter(
        'event',
        {
          kind: 'event',
          reason,
          subject: msg.subject,
          payload,
          stream: bus.settings.stream,
          streamSequence: msg.seq,
          msgId: msg.headers?.get('Nats-Msg-Id') ?? null,
          at: new Date().toISOString(),
        },
        { msgID: `${bus.settings.stream}:${msg.seq}` },
      );
    } catch (err) {
      this.options.logger.error('dead letter could not be published; the event will be tried again', { subject: msg.subject, seq: msg.seq, reason, error: describeError(err) });
      msg.nak(this.deadLetterRetryMs);
      return;
    }
    this.options.onDeadLetter?.(reason);
    this.options.logger.warn('event dead-lettered', { subject: msg.subject, seq: msg.seq, reason });
    // No reason on the TERM itself: NATS 2.9 ignores a `+TERM` carrying one, leaving the message pending.
    msg.term();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
