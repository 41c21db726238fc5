import { jetstream } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventApplier, type EventApplierOptions } from '../../core/ledger/event-applier.ts';
import type { DeadLetter } from '../../core/bus/dead-letter.ts';
import { NatsBus, type NatsSettings } from '../../core/bus/nats-bus.ts';
import type { InventoryEvent } from '../../core/events/event-types.ts';
import { openDatabase, type LedgerDatabase } from '../../core/ledger/database.ts';
import { Ledger } from '../../core/ledger/ledger.ts';
import { migrateToLatest } from '../../core/ledger/migrate.ts';
import { silentLogger } from '../support/dispatch-harness.ts';
import { freshDatabase, freshNatsSettings, uniqueSuffix, type FreshDatabase } from '../support/servers.ts';
import { startTcpProxy } from '../../bench/fault-sweep/tcp-proxy.ts';
import { waitFor } from '../support/test-hub.ts';

const now = () => new Date().toISOString();

const natsSettings = freshNatsSettings;

/** Events with ids and SKUs no other test shares. */
class Events {
  readonly prefix = `ap${uniqueSuffix()}`;
  #n = 0;
  sku(name: string): string {
    return `${this.prefix}-${name}`;
  }
  #base(kind: string) {
    return { id: `${this.prefix}:${kind}:${++this.#n}`, channel: 'web', occurredAt: now() };
  }
  set(lines: Record<string, number>): InventoryEvent {
    return { ...this.#base('set'), type: 'stock.set', channel: 'manual', lines: Object.entries(lines).map(([sku, quantity]) => ({ sku, quantity })) };
  }
  adjust(sku: string, delta: number, lines: number): InventoryEvent {
    return { ...this.#base('adjust'), type: 'stock.adjusted', channel: 'manual', lines: Array.from({ length: lines }, () => ({ sku, delta })) };
  }
  order(sku: string, qty = 1): InventoryEvent {
    return { ...this.#base('order'), type: 'order.confirmed', lines: [{ sku, qty }] };
  }
}

describe('the event applier', () => {
  let fresh: FreshDatabase;
  let database: LedgerDatabase;
  let ledger: Ledger;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    fresh = await freshDatabase('applier');
    database = await openDatabase({ url: fresh.url, poolSize: 4 });
    await migrateToLatest(database.db);
    ledger = new Ledger(database.db);
  });
  afterAll(async () => {
    await database.close();
    await fresh.drop();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  async function connectBus(settings: NatsSettings): Promise<NatsBus> {
    const bus = await NatsBus.connect(settings);
    await bus.ensureTopology();
    cleanups.push(async () => {
      await bus.deleteTopology();
      await bus.close();
    });
    return bus;
  }

  function startApplier(bus: NatsBus, options: Partial<EventApplierOptions> = {}): Promise<EventApplier> {
    const applier = new EventApplier({ bus, ledger, logger: silentLogger, maxBatchEvents: 500, onCommitted: () => {}, ...options });
    cleanups.push(() => applier.stop());
    return applier.start().then(() => applier);
  }

  async function deadLetters(bus: NatsBus): Promise<Array<{ letter: DeadLetter; bytes: number }>> {
    const stream = await jetstream(bus.nc).streams.get(bus.settings.deadLetterStream);
    const info = await stream.info();
    const letters: Array<{ letter: DeadLetter; bytes: number }> = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await stream.getMessage({ seq });
      if (msg) letters.push({ letter: msg.json<DeadLetter>(), bytes: msg.data.length });
    }
    return letters;
  }

  async function consumerSettled(bus: NatsBus): Promise<boolean> {
    const info = await bus.jsm.consumers.info(bus.settings.stream, bus.settings.consumer);
    return info.num_ack_pending === 0 && info.num_pending === 0;
  }

  /** Deliveries the consumer made beyond one per stream message: each is a redelivery. */
  async function redeliveries(bus: NatsBus): Promise<number> {
    const info = await bus.jsm.consumers.info(bus.settings.stream, bus.settings.consumer);
    return info.delivered.consumer_seq - info.delivered.stream_seq;
  }

  it('dead-letters an event the database refuses once, alone, and applies the events around it on their first delivery', async () => {
    const bus = await connectBus(natsSettings());
    const e = new Events();
    const [big, ok] = [e.sku('big'), e.sku('ok')];
    // 1e9 + 3 × 500 lines × 1e6: valid events, but the third addition passes PostgreSQL's integer maximum.
    const before = [e.set({ [big]: 1_000_000_000, [ok]: 100 }), e.adjust(big, 1_000_000, 500), e.adjust(big, 1_000_000, 500)];
    const poison = e.adjust(big, 1_000_000, 500);
    const after = [...Array.from({ length: 40 }, () => e.order(ok)), e.order(big)];
    for (const event of before) await bus.publishEvent(event);
    const poisonSeq = (await bus.publishEvent(poison)).seq;
    for (const event of after) await bus.publishEvent(event);

    await startApplier(bus);
    await waitFor('every event settled', () => consumerSettled(bus));

    expect(await ledger.getLevel(ok)).toMatchObject({ available: 60 });
    expect(await ledger.getLevel(big)).toMatchObject({ available: 1_999_999_999 });
    expect(await ledger.isProcessed(poison.id)).toBe(false);
    const letters = await deadLetters(bus);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.letter).toMatchObject({ kind: 'event', streamSequence: poisonSeq, msgId: poison.id });
    expect(letters[0]!.letter.reason).toMatch(/out of range/);
    expect(await redeliveries(bus)).toBe(0);
  });

  it('dead-letters a refused event in a group planned from the rows the applier remembers, applying every other event once and each SKU in stream order', async () => {
    const bus = await connectBus(natsSettings());
    const e = new Events();
    const [big, ok] = [e.sku('big'), e.sku('ok')];
    await bus.publishEvent(e.set({ [big]: 1_000_000_000, [ok]: 100 }));
    await startApplier(bus);
    // Committed: the writer now plans the next groups on these two SKUs from memory.
    await waitFor('the counts applied', async () => (await ledger.getLevel(ok))?.available === 100);

    const orders = Array.from({ length: 30 }, () => e.order(ok));
    // The third addition passes PostgreSQL's integer maximum: the database refuses it, and only it.
    const poison = e.adjust(big, 1_000_000, 500);
    const stream = [e.adjust(big, 1_000_000, 500), ...orders.slice(0, 15), e.adjust(big, 1_000_000, 500), poison, ...orders.slice(15), e.order(big)];
    await Promise.all(stream.map((event) => bus.publishEvent(event)));
    await waitFor('every event settled', () => consumerSettled(bus));

    expect(await ledger.getLevel(ok)).toMatchObject({ available: 70, version: 31 });
    expect(await ledger.getLevel(big)).toMatchObject({ available: 1_999_999_999 });
    expect(await ledger.isProcessed(poison.id)).toBe(false);
    const okAudit = (await ledger.listAudit({ sku: ok })).sort((a, b) => a.version - b.version);
    expect(okAudit.slice(1).map((a) => a.eventId)).toEqual(orders.map((o) => o.id));
    const letters = await deadLetters(bus);
    expect(letters.map((l) => l.letter.msgId)).toEqual([poison.id]);
  });

  it('truncates a dead letter that would not fit the server, keeping a reference to the original, and applies the events behind it', async () => {
    const bus = await connectBus(natsSettings());
    const e = new Events();
    const sku = e.sku('a');
    await bus.publishEvent(e.set({ [sku]: 10 }));
    const maxPayload = bus.nc.info!.max_payload;
    // Schema-invalid (reference over 1000 characters) and as large as the server takes.
    const huge = JSON.stringify({ ...e.order(sku), reference: 'x'.repeat(maxPayload - 1024) });
    const hugeSeq = (await bus.publishRaw(`${bus.settings.subjectPrefix}.in.order.confirmed`, huge, 'huge-1')).seq;
    for (let i = 0; i < 5; i++) await bus.publishEvent(e.order(sku));

    await startApplier(bus);
    await waitFor('the orders behind the oversized event', async () => (await ledger.getLevel(sku))?.available === 5);
    await waitFor('every event settled', () => consumerSettled(bus));

    const letters = await deadLetters(bus);
    expect(letters).toHaveLength(1);
    const { letter, bytes } = letters[0]!;
    expect(bytes).toBeLessThanOrEqual(maxPayload);
    expect(letter).toMatchObject({ kind: 'event', payloadTruncated: true, payloadBytes: Buffer.byteLength(huge), stream: bus.settings.stream, streamSequence: hugeSeq, msgId: 'huge-1' });
    expect(letter.payload).toBeUndefined();
    expect(huge.startsWith(letter.payloadHead as string)).toBe(true);
    expect(letter.reason).toMatch(/reference/);
  });

  it('keeps applying valid events while dead letters cannot be published, and stores the letter once they can', async () => {
    const bus = await connectBus(natsSettings());
    await bus.jsm.streams.delete(bus.settings.deadLetterStream);
    const e = new Events();
    const sku = e.sku('a');
    await bus.publishEvent(e.set({ [sku]: 10 }));
    await bus.publishRaw(`${bus.settings.subjectPrefix}.in.order.confirmed`, '{"not": "an event"}', 'bad-1');
    for (let i = 0; i < 3; i++) await bus.publishEvent(e.order(sku));

    await startApplier(bus, { deadLetterRetryMs: 200 });
    await waitFor('the valid events beside the undeliverable letter', async () => (await ledger.getLevel(sku))?.available === 7);

    await bus.ensureTopology();
    await waitFor('the letter stored once the stream is back', async () => (await deadLetters(bus)).length >= 1);
    await waitFor('every event settled', () => consumerSettled(bus));
    expect(await deadLetters(bus)).toHaveLength(1);
  });

  it('waits out a database outage without dead-lettering or redelivering a valid event', async () => {
    const bus = await connectBus(natsSettings({ ackWaitMs: 3_000 }));
    const target = new URL(fresh.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => proxy.close());
    const proxied = new URL(fresh.url);
    proxied.port = String(proxy.port);
    const handle = await openDatabase({ url: proxied.toString(), poolSize: 2, connectTimeoutMs: 1_000 });
    cleanups.push(() => handle.close());
    const availability: boolean[] = [];
    const applier = new EventApplier({
      bus,
      ledger: new Ledger(handle.db),
      logger: silentLogger,
      maxBatchEvents: 500,
      onCommitted: () => {},
      retryMaxMs: 1_000,
      onLedgerAvailability: (available) => availability.push(available),
    });
    cleanups.push(() => applier.stop());
    await applier.start();

    const e = new Events();
    const sku = e.sku('a');
    await bus.publishEvent(e.set({ [sku]: 100 }));
    await waitFor('the stock count', async () => (await ledger.getLevel(sku))?.available === 100);

    await proxy.cut();
    const orders = Array.from({ length: 20 }, () => e.order(sku));
    for (const order of orders) await bus.publishEvent(order);
    // Far longer than the ack wait and than five deliveries with backoff used to take to dead-letter.
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    expect(applier.ledgerUnavailableSince()).toBeDefined();
    expect(await deadLetters(bus)).toHaveLength(0);
    await proxy.restore();

    await waitFor('every order applied once the database is back', async () => (await ledger.getLevel(sku))?.available === 80);
    await waitFor('every event settled', () => consumerSettled(bus));
    expect(await deadLetters(bus)).toHaveLength(0);
    expect(await redeliveries(bus)).toBe(0);
    expect(availability).toEqual([false, true]);
    expect(applier.ledgerUnavailableSince()).toBeUndefined();
  }, 60_000);

  it('gives buffered events back when it stops, so the next applier takes them within seconds instead of after the ack timeout', async () => {
    const bus = await connectBus(natsSettings({ ackWaitMs: 120_000 }));
    const e = new Events();
    const sku = e.sku('a');
    await ledger.applyBatch([e.set({ [sku]: 1_000 })]);
    for (let i = 0; i < 30; i++) await bus.publishEvent(e.order(sku));

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = 0;
    const first = await startApplier(bus, {
      maxBatchEvents: 5,
      ledger: {
        async applyBatch(events) {
          // The first group holds what had arrived when it was taken: up to 5, fewer on a busy machine.
          entered ||= events.length;
          await gate;
          return ledger.applyBatch(events);
        },
      },
    });
    await waitFor('a group in the ledger and the rest buffered', () => entered > 0 && first.backlog() > 5);
    const stopping = first.stop();
    release();
    await stopping;
    // Only the group in progress was applied; everything buffered behind it was given back.
    expect(await ledger.getLevel(sku)).toMatchObject({ available: 1_000 - entered });

    await startApplier(bus);
    // The ack wait is 120 s: only events given back at stop are applied this soon.
    await waitFor('every order applied by the next applier', async () => (await ledger.getLevel(sku))?.available === 970, 30_000);
    await waitFor('every event settled', () => consumerSettled(bus));
  }, 60_000);
  it('says at start how many events left the stream by age before they were applied', async () => {
    const bus = await connectBus(natsSettings({ duplicateWindowMs: 100, inboundMaxAgeMs: 1_000 }));
    const e = new Events();
    for (let i = 0; i < 3; i++) await bus.publishEvent(e.order(e.sku('a')));
    await waitFor('the events aged out', async () => (await bus.jsm.streams.info(bus.settings.stream)).state.messages === 0, 10_000);
    const expired: number[] = [];
    await startApplier(bus, { onExpired: (events) => expired.push(events) });
    expect(expired).toEqual([3]);
  });
});
