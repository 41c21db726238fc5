import { randomUUID } from 'node:crypto';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { LedgerChange } from '../ledger/ledger-types.ts';

/**
 * One change on the wire: positional, times in epoch ms. Objects with ISO dates took seven times the CPU to
 * serialise and two and a half times the bytes, on the thread that applies the ledger, for every change of
 * every commit.
 */
type WireChange = [sku: string, before: number, available: number, version: number, eventId: string, eventType: LedgerChange['eventType'], eventChannel: string, occurredAtMs: number, committedAtMs: number];

/**
 * The first element of every message. A hub of another version ignores what it cannot read, which only
 * delays its pushes until its reconcile pass (the feed is an optimisation, never the record).
 */
const WIRE_VERSION = 2;

function toWire(c: LedgerChange): WireChange {
  return [c.sku, c.before, c.available, c.version, c.eventId, c.eventType, c.eventChannel, c.occurredAt.getTime(), c.committedAt.getTime()];
}

function fromWire(w: WireChange): LedgerChange {
  return { sku: w[0], before: w[1], available: w[2], version: w[3], eventId: w[4], eventType: w[5], eventChannel: w[6], occurredAt: new Date(w[7]), committedAt: new Date(w[8]) };
}

function isWireMessage(value: unknown): value is [typeof WIRE_VERSION, WireChange[]] {
  return Array.isArray(value) && value[0] === WIRE_VERSION && Array.isArray(value[1]) && value[1].every((w) => Array.isArray(w) && w.length === 9);
}

/** What NATS allows per message when the server does not say (its default max_payload). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room kept below the server's max payload for the headers and protocol framing. */
const HEADROOM = 4096;

/**
 * Tells the other hubs sharing a ledger what this hub committed. The dispatchers of a channel live in
 * the hub holding its lease, while any hub may apply the events; without this the pushing hub would
 * learn of another hub's commits only at its next reconcile pass. Plain NATS (at most once) suffices:
 * a lost message only delays a push until that pass, since channel state is level-triggered.
 */
export class ChangeFeed {
  private readonly origin = randomUUID();
  private readonly subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    onRemote: (changes: LedgerChange[]) => void,
  ) {
    this.subscription = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err || msg.headers?.get('Stockrelay-Origin') === this.origin) return;
        try {
          const wire = msg.json<unknown>();
          if (isWireMessage(wire)) onRemote(wire[1].map(fromWire));
        } catch {
          // A malformed message only costs a delay until the reconcile pass.
        }
      },
    });
  }

  /**
   * Publishes `changes` as one message, or as several when one would exceed the server's max payload: a group
   * of a few thousand events (`ledger.maxBatchEvents` allows 100,000) makes more than a megabyte of changes,
   * and a refused publish would take the rest of the commit's notifications with it.
   */
  publish(changes: readonly LedgerChange[]): void {
    if (changes.length === 0 || this.nc.isClosed()) return;
    const limit = (this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADROOM;
    const rows = changes.map(toWire);
    const whole = JSON.stringify([WIRE_VERSION, rows]);
    if (whole.length * 3 <= limit || Buffer.byteLength(whole) <= limit) {
      this.send(whole);
      return;
    }
    const frame = (part: string[]) => `[${WIRE_VERSION},[${part.join(',')}]]`;
    const empty = Buffer.byteLength(frame([]));
    let part: string[] = [];
    let bytes = empty;
    for (const row of rows) {
      const text = JSON.stringify(row);
      const size = Buffer.byteLength(text) + 1;
      if (part.length > 0 && bytes + size > limit) {
        this.send(frame(part));
        part = [];
        bytes = empty;
      }
      part.push(text);
      bytes += size;
    }
    if (part.length > 0) this.send(frame(part));
  }

  private send(json: string): void {
    const h = headers();
    h.set('Stockrelay-Origin', this.origin);
    this.nc.publish(this.subject, json, { headers: h });
  }

  async stop(): Promise<void> {
    this.subscription.unsubscribe();
  }
}
