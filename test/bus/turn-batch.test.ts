import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { TurnBatch } from '../../core/bus/turn-batch.ts';
import type { InventoryEvent } from '../../core/events/event-types.ts';
import { freshNatsSettings } from '../support/servers.ts';

describe('a turn batch', () => {
  it('starts the tasks asked for in one turn together once the turn\'s own work is done, in the order asked', async () => {
    const batch = new TurnBatch();
    const log: string[] = [];
    const task = (name: string) => () => {
      log.push(`start ${name}`);
      return Promise.resolve(name);
    };
    const done = Promise.all([batch.run(task('a')), batch.run(task('b')), batch.run(task('c'))]);
    await Promise.resolve();
    log.push('turn over');
    expect(await done).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['turn over', 'start a', 'start b', 'start c']);
  });

  it('settles each caller with its own task\'s outcome, also when a task throws before returning a promise', async () => {
    const batch = new TurnBatch();
    const ok = batch.run(() => Promise.resolve(1));
    const refused = batch.run(() => Promise.reject(new Error('refused')));
    const threw = batch.run<number>(() => {
      throw new Error('threw');
    });
    await expect(ok).resolves.toBe(1);
    await expect(refused).rejects.toThrow('refused');
    await expect(threw).rejects.toThrow('threw');
  });

  it('takes tasks asked for in a later turn into a batch of their own', async () => {
    const batch = new TurnBatch();
    const started: number[] = [];
    await batch.run(async () => started.push(1));
    await batch.run(async () => started.push(2));
    expect(started).toEqual([1, 2]);
  });
});

describe('inbound events published in one turn, on the real NATS JetStream', () => {
  let bus: NatsBus;
  beforeAll(async () => {
    bus = await NatsBus.connect(freshNatsSettings());
    await bus.ensureTopology();
  });
  afterAll(async () => {
    await bus.deleteTopology().catch(() => undefined);
    await bus.close();
  });

  const event = (id: string): InventoryEvent => ({ id, type: 'order.confirmed', channel: 'shop', occurredAt: new Date().toISOString(), orderId: id, lines: [{ sku: 'SKU-1', qty: 1 }] });

  it('are each stored once, in the order published, and an id repeated in the same turn is a duplicate', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `turn-${i}`);
    const acks = await Promise.all([...ids.map((id) => bus.publishEvent(event(id))), bus.publishEvent(event('turn-3'))]);
    const stored = acks.slice(0, 20);
    expect(stored.every((a) => !a.duplicate)).toBe(true);
    expect(stored.map((a) => a.seq)).toEqual(stored.map((_, i) => stored[0]!.seq + i));
    expect(acks[20]).toMatchObject({ duplicate: true, seq: stored[3]!.seq });
  });
});
