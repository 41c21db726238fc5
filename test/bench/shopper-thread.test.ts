import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { inboundFilter } from '../../core/bus/subjects.ts';
import { parseEvent } from '../../core/events/validate-event.ts';
import { shopperEventId, startShopperThread, type ShopperJob, type ShopperTally } from '../../core/tooling/bench/shopper-thread.ts';
import { freshNatsSettings } from '../support/servers.ts';

/** Every event the stream holds, read once from the start with an ephemeral consumer. */
async function readStream(bus: NatsBus): Promise<Map<string, { sku: string; qty: number }[]>> {
  const { stream, subjectPrefix } = bus.settings;
  const info = await bus.jsm.streams.info(stream);
  const name = `read_${Date.now().toString(36)}`;
  await bus.jsm.consumers.add(stream, { name, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, filter_subject: inboundFilter(subjectPrefix) });
  const consumer = await bus.js.consumers.get(stream, name);
  const events = new Map<string, { sku: string; qty: number }[]>();
  let left = info.state.messages;
  while (left > 0) {
    const batch = await consumer.fetch({ max_messages: Math.min(left, 1000), expires: 5_000 });
    for await (const msg of batch) {
      const parsed = parseEvent(msg.data);
      if (!parsed.ok || parsed.event.type !== 'order.confirmed') throw new Error(`unexpected message ${msg.seq}`);
      if (events.has(parsed.event.id)) throw new Error(`event ${parsed.event.id} stored twice`);
      events.set(parsed.event.id, parsed.event.lines);
      left -= 1;
    }
  }
  return events;
}

describe('the bench shoppers in their own thread', () => {
  const settings = freshNatsSettings();
  let bus: NatsBus;
  let job: ShopperJob;
  let tally: ShopperTally;
  let stored: Map<string, { sku: string; qty: number }[]>;

  beforeAll(async () => {
    bus = await NatsBus.connect(settings);
    await bus.ensureTopology();
    job = { nats: settings, channel: 'bench-shop', runId: 'r1', skus: ['A', 'B', 'C', 'D', 'E'], rate: 2_000, durationMs: 1_000, maxLines: 3, zipfExponent: 1.1, maxInFlight: 1_000, seed: 7 };
    const shoppers = startShopperThread(job);
    await shoppers.started;
    const atLoadEnd = await shoppers.loadOver;
    tally = await shoppers.done;
    expect(atLoadEnd.placed).toBe(tally.placed);
    stored = await readStream(bus);
  }, 60_000);
  afterAll(async () => {
    await bus.deleteTopology();
    await bus.close();
  });

  it('publishes to JetStream exactly the orders it reports, each once, under the ids it names', () => {
    expect(tally.placed).toBeGreaterThan(0);
    expect(tally.acked + tally.failed).toBe(tally.placed);
    expect(tally.failed).toBe(0);
    const expected = Array.from({ length: tally.placed }, (_, i) => shopperEventId(job, i + 1)).sort();
    expect([...stored.keys()].sort()).toEqual(expected);
  });

  it('reports the units it ordered per SKU as the stored orders add them up', () => {
    const units: Record<string, number> = {};
    for (const lines of stored.values()) for (const line of lines) units[line.sku] = (units[line.sku] ?? 0) + line.qty;
    expect(tally.unitsBySku).toEqual(units);
    expect(tally.unitsSold).toBe(Object.values(units).reduce((a, b) => a + b, 0));
  });
});
