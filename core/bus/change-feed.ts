import { randomUUID } from 'node:crypto';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { LedgerChange } from '../ledger/ledger-types.ts';

type WireChange = Omit<LedgerChange, 'occurredAt' | 'committedAt'> & { occurredAt: string; committedAt: string };

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
          const wire = msg.json<WireChange[]>();
          onRemote(wire.map((c) => ({ ...c, occurredAt: new Date(c.occurredAt), committedAt: new Date(c.committedAt) })));
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
    const whole = JSON.stringify(changes);
    if (whole.length * 3 <= limit || Buffer.byteLength(whole) <= limit) {
      this.send(whole);
      return;
    }
    let part: string[] = [];
    let bytes = 2;
    for (const change of changes) {
      const text = JSON.stringify(change);
      const size = Buffer.byteLength(text) + 1;
      if (part.length > 0 && bytes + size > limit) {
        this.send(`[${part.join(',')}]`);
        part = [];
        bytes = 2;
      }
      part.push(text);
      bytes += size;
    }
    if (part.length > 0) this.send(`[${part.join(',')}]`);
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
