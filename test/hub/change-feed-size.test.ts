import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../core/bus/change-feed.ts';
import type { LedgerChange } from '../../core/ledger/ledger-types.ts';
import { NATS_URL, uniqueSuffix } from '../support/servers.ts';
import { waitFor } from '../support/test-hub.ts';

describe('the change feed between hubs', () => {
  const subject = `t${uniqueSuffix()}.changed`;
  let a: NatsConnection;
  let b: NatsConnection;
  beforeAll(async () => {
    [a, b] = await Promise.all([connect({ servers: NATS_URL }), connect({ servers: NATS_URL })]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  /** A hub's feed publishing on `a` and another's listening on `b`, with what the listener received. */
  async function feeds(): Promise<{ sender: ChangeFeed; listener: ChangeFeed; received: LedgerChange[] }> {
    const received: LedgerChange[] = [];
    const sender = new ChangeFeed(a, subject, () => undefined);
    const listener = new ChangeFeed(b, subject, (changes) => received.push(...changes));
    await b.flush();
    return { sender, listener, received };
  }

  it('delivers a commit of more changes than fit one message whole and in order, in several messages', async () => {
    const { sender, listener, received } = await feeds();
    const at = new Date();
    const changes: LedgerChange[] = Array.from({ length: 20_000 }, (_, i) => ({
      sku: `SKU-${i}-${'x'.repeat(40)}`,
      before: i + 1,
      available: i,
      version: i + 2,
      eventId: `shop:order:${uniqueSuffix()}-${i}:confirmed`,
      eventType: 'order.confirmed',
      eventChannel: 'shop',
      occurredAt: at,
      committedAt: at,
    }));
    let messages = 0;
    const counter = b.subscribe(subject, {
      callback: () => {
        messages += 1;
      },
    });
    await b.flush();
    sender.publish(changes);
    await waitFor('every change', () => received.length >= changes.length);
    expect(received).toEqual(changes);
    expect(messages).toBeGreaterThan(1);
    counter.unsubscribe();
    await Promise.all([sender.stop(), listener.stop()]);
  });

  it('ignores a message in a form it cannot read (a hub of another version), and reads the next one', async () => {
    const { sender, listener, received } = await feeds();
    const at = new Date();
    const change: LedgerChange = { sku: 'SKU-1', before: 3, available: 2, version: 7, eventId: 'shop:order:1:confirmed', eventType: 'order.confirmed', eventChannel: 'shop', occurredAt: at, committedAt: at };
    a.publish(subject, JSON.stringify([{ ...change, occurredAt: at.toISOString(), committedAt: at.toISOString() }]));
    // Another version's rows may have this version's shape: the version alone says they are not to be read.
    a.publish(subject, JSON.stringify([3, [['SKU-2', 9, 8, 1, 'shop:order:2:confirmed', 'order.confirmed', 'shop', at.getTime(), at.getTime()]]]));
    a.publish(subject, 'not json');
    sender.publish([change]);
    await waitFor('the readable change', () => received.length >= 1);
    expect(received).toEqual([change]);
    await Promise.all([sender.stop(), listener.stop()]);
  });
});
