import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { describeError } from '../errors.ts';
import type { InventoryEvent } from '../events/event-types.ts';
import { parseEvent } from '../events/validate-event.ts';
import type { EventOutcome } from '../ledger/ledger-types.ts';
import type { Logger } from '../sdk.ts';
import type { NatsBus } from './nats-bus.ts';
import { typeFromSubject } from './subjects.ts';

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
  /** Called after each commit, before the acks, with the outcomes in stream order. */
  onCommitted(outcomes: readonly EventOutcome[], events: readonly InventoryEvent[], commitMs: number): void;
  /** Called once per event sent to the dead-letter stream. */
  onDeadLetter?(reason: string): void;
}

/** A delivery that keeps failing inside a group is isolated and, past this many tries, dead-lettered. */
const POISON_DELIVERIES = 5;

/**
 * Pulls inbound events from the durable consumer and applies them to the ledger in groups:
 * everything that arrived while the previous group committed goes into the next transaction,
 * so a hot SKU's orders are serialised in one writer instead of fighting over the row.
 * A message is acked only after its group committed; invalid events go to the dead-letter
 * stream with the reason and are terminated so they never block the events behind them.
 */
export class EventApplier {
  private buffer: JsMsg[] = [];
  private wake: (() => void) | undefined;
  private messages: ConsumerMessages | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private backoffMs = 0;

  constructor(private readonly options: EventApplierOptions) {}

  async start(): Promise<void> {
    const { bus } = this.options;
    const consumer = await bus.js.consumers.get(bus.settings.stream, bus.settings.consumer);
    this.running = true;
    this.messages = await consumer.consume({
      max_messages: Math.max(256, this.options.maxBatchEvents * 2),
      callback: (msg) => {
        this.buffer.push(msg);
        this.wake?.();
      },
    });
    this.loop = this.run();
  }

  /** Events received but not yet committed. */
  backlog(): number {
    return this.buffer.length;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.buffer.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const group = this.buffer.splice(0, this.options.maxBatchEvents);
      try {
        await this.applyGroup(group);
        this.backoffMs = 0;
      } catch (err) {
        // The database is down or the group conflicted past its retries: give the messages back
        // and slow down; JetStream redelivers them and the idempotency records make that safe.
        this.backoffMs = Math.min(5_000, Math.max(200, this.backoffMs * 2));
        this.options.logger.warn('ledger transaction failed; events will be redelivered', { error: describeError(err), events: group.length, retryInMs: this.backoffMs });
        for (const msg of group) msg.nak(this.backoffMs);
        await new Promise((resolve) => setTimeout(resolve, this.backoffMs));
      }
    }
  }

  private async applyGroup(group: JsMsg[]): Promise<void> {
    const { bus } = this.options;
    const valid: Array<{ msg: JsMsg; event: InventoryEvent }> = [];
    const rejected: Promise<void>[] = [];
    for (const msg of group) {
      const subjectType = typeFromSubject(bus.settings.subjectPrefix, msg.subject);
      const parsed = parseEvent(msg.data, subjectType);
      if (parsed.ok) valid.push({ msg, event: parsed.event });
      else rejected.push(this.deadLetter(msg, parsed.reason));
    }
    await Promise.all(rejected);
    if (valid.length === 0) return;
    const events = valid.map((v) => v.event);
    let outcomes: EventOutcome[];
    const started = performance.now();
    try {
      outcomes = await this.options.ledger.applyBatch(events);
    } catch (err) {
      if (valid.length === 1) {
        const only = valid[0]!;
        if (only.msg.info.deliveryCount >= POISON_DELIVERIES) {
          await this.deadLetter(only.msg, `ledger refused the event ${only.msg.info.deliveryCount} times: ${describeError(err)}`);
          return;
        }
        throw err;
      }
      // One bad event must not hold the group hostage: retry each on its own.
      for (const item of valid) await this.applyGroup([item.msg]);
      return;
    }
    this.options.onCommitted(outcomes, events, performance.now() - started);
    for (const item of valid) item.msg.ack();
  }

  private async deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(msg.data);
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {
      // keep the raw text: the point of a dead letter is to show what arrived
    }
    await this.options.bus.publishDeadLetter('event', {
      kind: 'event',
      reason,
      subject: msg.subject,
      payload,
      streamSequence: msg.seq,
      msgId: msg.headers?.get('Nats-Msg-Id') ?? null,
      at: new Date().toISOString(),
    });
    this.options.onDeadLetter?.(reason);
    this.options.logger.warn('event dead-lettered', { subject: msg.subject, seq: msg.seq, reason });
    // No reason on the TERM itself: NATS 2.9 ignores a `+TERM` carrying one, leaving the message pending.
    msg.term();
  }
}
