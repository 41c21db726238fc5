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

  it('delivers a commit of more changes than fit one message whole and in order, in several messages', async () => {
    const received: LedgerChange[] = [];
    const sender = new ChangeFeed(a, subject, () => undefined);
    const listener = new ChangeFeed(b, subject, (changes) => received.push(...changes));
    await b.flush();
    const at = new Date();
    const changes: LedgerChange[] = Array.from({ length: 12_000 }, (_, i) => ({
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
    expect(Buffer.byteLength(JSON.stringify(changes))).toBeGreaterThan(a.info!.max_payload);
    sender.publish(changes);
    await waitFor('every change', () => received.length >= changes.length);
    expect(received).toEqual(changes);
    await Promise.all([sender.stop(), listener.stop()]);
  });
});
