import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, type NatsSettings } from '../../core/bus/nats-bus.ts';
import { ErrorCodes } from '../../core/errors.ts';
import { LedgerPruner, processedEventMaxAgeMs } from '../../core/ledger/ledger-pruner.ts';
import { silentLogger } from '../support/dispatch-harness.ts';
import { freshNatsSettings, uniqueSuffix } from '../support/servers.ts';
import { pgliteBackend, postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';

const DAY = 86_400_000;

describe('processed-event retention', () => {
  const config = (inboundMaxAgeMs: number, processedEventRetentionDays: number) => ({ nats: { inboundMaxAgeMs, duplicateWindowMs: 120_000 }, ledger: { processedEventRetentionDays } });

  it('is never shorter than the stream can still deliver a message: max age + duplicate window + a day', () => {
    expect(processedEventMaxAgeMs(config(90 * DAY, 1))).toBe(90 * DAY + 120_000 + DAY);
  });

  it('keeps the configured days when they are longer', () => {
    expect(processedEventMaxAgeMs(config(7 * DAY, 30))).toBe(30 * DAY);
  });

  it('prunes nothing when the inbound stream keeps messages forever', () => {
    expect(processedEventMaxAgeMs(config(0, 30))).toBeUndefined();
  });
});

describe.each([postgresBackend(), pgliteBackend()])('the ledger pruner on $name', (backend: LedgerBackend) => {
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());

  async function seed(prefix: string, ageDays: number, count: number): Promise<void> {
    const at = new Date(Date.now() - ageDays * DAY);
    const db = backend.primary().db;
    await db
      .insertInto('processed_event')
      .values(Array.from({ length: count }, (_, i) => ({ event_id: `${prefix}:${ageDays}:${i}`, event_type: 'order.confirmed', channel: 'web', occurred_at: at, processed_at: at })))
      .execute();
    await db
      .insertInto('audit')
      .values(Array.from({ length: count }, (_, i) => ({ event_id: `${prefix}:${ageDays}:${i}`, event_type: 'order.confirmed', channel: 'web', sku: prefix, before: 1, after: 0, version: i + 1, occurred_at: at, created_at: at })))
      .execute();
  }
  const counts = async (prefix: string) => {
    const db = backend.primary().db;
    const processed = await db.selectFrom('processed_event').select((eb) => eb.fn.countAll<number>().as('n')).where('event_id', 'like', `${prefix}:%`).executeTakeFirstOrThrow();
    const audit = await db.selectFrom('audit').select((eb) => eb.fn.countAll<number>().as('n')).where('sku', '=', prefix).executeTakeFirstOrThrow();
    return { processed: Number(processed.n), audit: Number(audit.n) };
  };

  it('deletes idempotency records past their age in small batches, keeps younger ones, and keeps the audit by default', async () => {
    const prefix = `pr${uniqueSuffix()}`;
    await seed(prefix, 40, 25);
    await seed(prefix, 10, 5);
    const pruner = new LedgerPruner(backend.primary().db, { processedEventMaxAgeMs: 30 * DAY, auditMaxAgeMs: undefined, intervalMs: 60_000, batchRows: 4, logger: silentLogger });
    const result = await pruner.pruneOnce();
    expect(result.processedEvents).toBeGreaterThanOrEqual(25);
    expect(result.audit).toBe(0);
    expect(await counts(prefix)).toEqual({ processed: 5, audit: 30 });
  });

  it('deletes audit rows past the configured retention', async () => {
    const prefix = `pa${uniqueSuffix()}`;
    await seed(prefix, 400, 6);
    await seed(prefix, 100, 3);
    const pruner = new LedgerPruner(backend.primary().db, { processedEventMaxAgeMs: undefined, auditMaxAgeMs: 365 * DAY, intervalMs: 60_000, batchRows: 4, logger: silentLogger });
    await pruner.pruneOnce();
    expect(await counts(prefix)).toEqual({ processed: 9, audit: 3 });
  });
});

describe('stream limits', () => {
  const buses: NatsBus[] = [];
  afterEach(async () => {
    for (const bus of buses.splice(0)) {
      await bus.deleteTopology().catch(() => undefined);
      await bus.close();
    }
  });
  const settings = freshNatsSettings;
  async function connect(s: NatsSettings): Promise<NatsBus> {
    const bus = await NatsBus.connect(s);
    buses.push(bus);
    return bus;
  }

  it('puts the configured limits on both streams, and updates streams made with other limits', async () => {
    const first = settings({ inboundMaxAgeMs: 0, deadLetterMaxAgeMs: 0, deadLetterMaxBytes: -1 });
    await (await connect(first)).ensureTopology();
    const bus = await connect({ ...first, inboundMaxAgeMs: 2 * DAY, inboundMaxBytes: 1 << 20, deadLetterMaxAgeMs: 3 * DAY, deadLetterMaxBytes: 1 << 21 });
    await bus.ensureTopology();
    const inbound = (await bus.jsm.streams.info(first.stream)).config;
    const dead = (await bus.jsm.streams.info(first.deadLetterStream)).config;
    expect(inbound).toMatchObject({ max_age: 2 * DAY * 1e6, max_bytes: 1 << 20, discard: 'new' });
    expect(dead).toMatchObject({ max_age: 3 * DAY * 1e6, max_bytes: 1 << 21, discard: 'old' });
  });

  it('refuses new events when the inbound stream is full instead of dropping ones not yet applied', async () => {
    const s = settings({ inboundMaxBytes: 4096 });
    const bus = await connect(s);
    await bus.ensureTopology();
    const subject = `${s.subjectPrefix}.in.stock.set`;
    let refused: unknown;
    for (let i = 0; i < 100 && refused === undefined; i++) {
      await bus.publishRaw(subject, 'x'.repeat(200), `m-${i}`).catch((err: unknown) => (refused = err));
    }
    expect(refused).toBeDefined();
    const state = (await bus.jsm.streams.info(s.stream)).state;
    expect(state.first_seq).toBe(1);
    expect(state.messages).toBe(state.last_seq);
  });

  it('refuses a max age shorter than the duplicate window, naming the field', async () => {
    const bus = await connect(settings({ inboundMaxAgeMs: 60_000 }));
    await expect(bus.ensureTopology()).rejects.toMatchObject({ code: ErrorCodes.CONFIG_INVALID, problems: [{ path: '/nats/inboundMaxAgeMs' }] });
  });
});
