import { randomUUID } from 'node:crypto';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { LedgerChange } from '../ledger/ledger-types.ts';

type WireChange = Omit<LedgerChange, 'occurredAt' | 'committedAt'> & { occurredAt: string; committedAt: string };

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

  publish(changes: readonly LedgerChange[]): void {
    if (changes.length === 0 || this.nc.isClosed()) return;
    const h = headers();
    h.set('Stockrelay-Origin', this.origin);
    this.nc.publish(this.subject, JSON.stringify(changes), { headers: h });
  }

  async stop(): Promise<void> {
    this.subscription.unsubscribe();
  }
}
