import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS, parseEvent } from '../../core/events/validate-event.ts';
import { inboundSubject } from '../../core/bus/subjects.ts';
import { EVENT_TYPES, type EventType } from '../../core/events/event-types.ts';

const base = { channel: 'shopify-main', occurredAt: '2026-11-27T13:00:00.000Z' };

const valid: Record<EventType, Record<string, unknown>> = {
  'order.confirmed': { ...base, id: 'shopify-main:order:1:confirmed', type: 'order.confirmed', orderId: '1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }] },
  'order.cancelled': { ...base, id: 'shopify-main:order:1:cancelled', type: 'order.cancelled', reference: '#1001', lines: [{ sku: 'A', qty: 2 }] },
  'order.returned': {
    ...base,
    id: 'shopify-main:order:1:returned:929361472',
    type: 'order.returned',
    orderId: '1',
    lines: [{ sku: 'A', qty: 2, restock: 1 }, { sku: 'B', qty: 1, restock: 0 }],
  },
  'stock.adjusted': { ...base, id: 'manual:adj:7', type: 'stock.adjusted', lines: [{ sku: 'A', delta: -3 }, { sku: 'B', delta: 12 }] },
  'stock.set': { ...base, id: 'import:count:2026-11-27', type: 'stock.set', lines: [{ sku: 'A', quantity: 0 }] },
};

function rejected(data: unknown, subjectType?: EventType): { reason: string; paths: string[] } {
  const result = parseEvent(typeof data === 'string' ? data : JSON.stringify(data), subjectType);
  if (result.ok) throw new Error('expected the event to be refused');
  return { reason: result.reason, paths: result.problems.map((p) => p.path) };
}

describe('parseEvent', () => {
  it.each(EVENT_TYPES)('accepts a valid %s event', (type) => {
    const result = parseEvent(JSON.stringify(valid[type]), type);
    expect(result).toEqual({ ok: true, event: valid[type] });
  });

  it('accepts bytes as they come off the bus', () => {
    const result = parseEvent(new TextEncoder().encode(JSON.stringify(valid['stock.set'])));
    expect(result.ok).toBe(true);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(parseEvent(new Uint8Array([0x7b, 0xff, 0x7d])).ok).toBe(false);
  });

  it('refuses text that is not JSON', () => {
    expect(rejected('{"id": "x",').reason).toMatch(/^not JSON/);
  });

  it('refuses JSON that is not an object', () => {
    expect(rejected([valid['stock.set']]).reason).toBe('not a JSON object (got an array)');
  });

  it('refuses an event without a type, listing the types', () => {
    const { type: _type, ...untyped } = valid['order.confirmed'];
    const { reason, paths } = rejected(untyped);
    expect(reason).toBe('missing field "type" (one of: order.confirmed, order.cancelled, order.returned, stock.adjusted, stock.set)');
    expect(paths).toEqual(['/type']);
  });

  it('refuses an unknown type', () => {
    expect(rejected({ ...valid['order.confirmed'], type: 'order.shipped' }).reason).toMatch(/^unknown event type "order.shipped"/);
  });

  it('refuses an event whose type differs from its subject', () => {
    const { reason } = rejected(valid['order.cancelled'], 'order.confirmed');
    expect(reason).toBe('event type "order.cancelled" does not match its subject type "order.confirmed"');
  });

  it('names every bad field at once', () => {
    const { reason, paths } = rejected({
      ...valid['order.confirmed'],
      id: '',
      occurredAt: 'yesterday',
      lines: [{ sku: 'A', qty: 0 }, { sku: 'B', qty: 1.5 }],
      coupon: 'X',
    });
    expect(paths.sort()).toEqual(['/coupon', '/id', '/lines/0/qty', '/lines/1/qty', '/occurredAt']);
    expect(reason).toContain('/lines/0/qty must be >= 1 (got 0)');
    expect(reason).toContain('/occurredAt must be an ISO 8601 date-time');
    expect(reason).toContain('unknown key "coupon"');
  });

  it('refuses a date-time without a time zone', () => {
    expect(rejected({ ...valid['stock.set'], occurredAt: '2026-11-27T13:00:00' }).paths).toEqual(['/occurredAt']);
  });

  it('refuses an order without lines', () => {
    expect(rejected({ ...valid['order.confirmed'], lines: [] }).reason).toContain('/lines must have at least 1 item');
  });

  it('refuses more than 500 lines', () => {
    const lines = Array.from({ length: 501 }, (_, i) => ({ sku: `S${i}`, qty: 1 }));
    expect(rejected({ ...valid['order.confirmed'], lines }).reason).toContain('/lines must have at most 500 items (got 501)');
  });

  it('refuses an id longer than 200 characters', () => {
    expect(rejected({ ...valid['stock.set'], id: 'x'.repeat(201) }).paths).toEqual(['/id']);
  });

  it('refuses a zero adjustment', () => {
    expect(rejected({ ...valid['stock.adjusted'], lines: [{ sku: 'A', delta: 0 }] }).reason).toContain('/lines/0/delta must not be 0');
  });

  it('refuses a negative stock count', () => {
    expect(rejected({ ...valid['stock.set'], lines: [{ sku: 'A', quantity: -1 }] }).paths).toEqual(['/lines/0/quantity']);
  });

  it('refuses a line field of another event type', () => {
    const { paths } = rejected({ ...valid['stock.set'], lines: [{ sku: 'A', qty: 1 }] });
    expect(paths.sort()).toEqual(['/lines/0/qty', '/lines/0/quantity']);
  });

  it('refuses an empty sku', () => {
    expect(rejected({ ...valid['order.cancelled'], lines: [{ sku: '', qty: 1 }] }).reason).toContain('/lines/0/sku must not be empty');
  });

  it('keeps the reason short for an event with hundreds of bad lines', () => {
    const lines = Array.from({ length: 300 }, () => ({ sku: '', qty: 0 }));
    const { reason, paths } = rejected({ ...valid['order.confirmed'], lines });
    expect(paths).toHaveLength(600);
    expect(reason).toContain('and 590 more');
  });
});

describe('the bounds the ledger can hold', () => {
  const order = (line: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...valid['order.confirmed'], ...extra, lines: [line] });

  it('accepts the largest quantities each event type allows', () => {
    expect(parseEvent(JSON.stringify(order({ sku: 'A', qty: 1_000_000 }))).ok).toBe(true);
    expect(parseEvent(JSON.stringify({ ...valid['stock.adjusted'], lines: [{ sku: 'A', delta: -1_000_000 }, { sku: 'B', delta: 1_000_000 }] })).ok).toBe(true);
    expect(parseEvent(JSON.stringify({ ...valid['stock.set'], lines: [{ sku: 'A', quantity: 1_000_000_000 }] })).ok).toBe(true);
  });

  it.each([1_000_001, 2_147_483_648, 1e300])('refuses an order line of %s units', (qty) => {
    expect(rejected(order({ sku: 'A', qty })).paths).toEqual(['/lines/0/qty']);
  });

  it('keeps a full event of additions on top of the largest count inside PostgreSQL integer', () => {
    const schema = (type: EventType, field: string) => (EVENT_SCHEMAS[type] as { properties: { lines: { maxItems: number; items: { properties: Record<string, { maximum: number }> } } } }).properties.lines;
    const biggestEvent = (type: EventType, field: string) => schema(type, field).maxItems * schema(type, field).items.properties[field]!.maximum;
    const set = (EVENT_SCHEMAS['stock.set'] as { properties: { lines: { items: { properties: { quantity: { maximum: number } } } } } }).properties.lines.items.properties.quantity.maximum;
    for (const [type, field] of [['order.cancelled', 'qty'], ['order.returned', 'restock'], ['stock.adjusted', 'delta']] as const) {
      expect(set + biggestEvent(type, field)).toBeLessThanOrEqual(2 ** 31 - 1);
    }
  });

  it('refuses a return line that restocks more units than it returns, naming the line', () => {
    const { reason, paths } = rejected({ ...valid['order.returned'], lines: [{ sku: 'A', qty: 2, restock: 2 }, { sku: 'B', qty: 1, restock: 3 }] });
    expect(paths).toEqual(['/lines/1/restock']);
    expect(reason).toBe('invalid order.returned event: /lines/1/restock must be at most qty (1) (got 3)');
  });

  it('refuses a return without an order id or without restock information', () => {
    const { orderId: _orderId, ...withoutOrder } = valid['order.returned'];
    expect(rejected(withoutOrder).paths).toEqual(['/orderId']);
    expect(rejected({ ...valid['order.returned'], lines: [{ sku: 'A', qty: 2 }] }).paths).toEqual(['/lines/0/restock']);
  });

  it('refuses adjustments and counts past their bounds', () => {
    expect(rejected({ ...valid['stock.adjusted'], lines: [{ sku: 'A', delta: -1_000_001 }] }).paths).toEqual(['/lines/0/delta']);
    expect(rejected({ ...valid['stock.adjusted'], lines: [{ sku: 'A', delta: 1_000_001 }] }).paths).toEqual(['/lines/0/delta']);
    expect(rejected({ ...valid['stock.set'], lines: [{ sku: 'A', quantity: 1_000_000_001 }] }).paths).toEqual(['/lines/0/quantity']);
  });

  it.each([
    ['a NUL', 'A\u0000B'],
    ['a line feed', 'A\nB'],
    ['an escape', '\u001b[31mA'],
    ['a C1 control', 'A\u0085'],
  ])('refuses a SKU with %s character', (_what, sku) => {
    const { reason, paths } = rejected(order({ sku, qty: 1 }));
    expect(paths).toEqual(['/lines/0/sku']);
    expect(reason).toContain('must not contain control characters');
  });

  it('accepts a SKU of 200 printable characters in any script, and refuses 201', () => {
    expect(parseEvent(JSON.stringify(order({ sku: 'ß-€-雪'.repeat(40), qty: 1 }))).ok).toBe(true);
    expect(rejected(order({ sku: 'x'.repeat(201), qty: 1 })).paths).toEqual(['/lines/0/sku']);
  });

  it('refuses control characters in the id, channel and order id', () => {
    const { paths } = rejected(order({ sku: 'A', qty: 1 }, { id: 'a\u0000', channel: 'web\r\n', orderId: '1\u0007' }));
    expect(paths.sort()).toEqual(['/channel', '/id', '/orderId']);
  });

  it('refuses a channel longer than 200 characters', () => {
    expect(rejected(order({ sku: 'A', qty: 1 }, { channel: 'c'.repeat(201) })).paths).toEqual(['/channel']);
  });

  it('accepts tabs and line breaks in a reference but no other control character', () => {
    expect(parseEvent(JSON.stringify({ ...valid['stock.set'], reference: 'count sheet\n\tshelf 4' })).ok).toBe(true);
    expect(rejected({ ...valid['stock.set'], reference: 'x\u0000' }).paths).toEqual(['/reference']);
  });

  it.each([
    ['a leap second', '2026-06-30T23:59:60Z'],
    ['a day that does not exist', '2026-02-30T10:00:00Z'],
    ['a year before 2000', '1999-12-31T23:59:59Z'],
    ['a year after 2099', '2100-01-01T00:00:00Z'],
    ['a date without time', '2026-11-27'],
    ['an offset without minutes', '2026-11-27T13:00:00+01'],
    ['a space for the T', '2026-11-27 13:00:00Z'],
  ])('refuses %s as occurredAt', (_what, occurredAt) => {
    const { reason, paths } = rejected({ ...valid['stock.set'], occurredAt });
    expect(paths).toEqual(['/occurredAt']);
    expect(reason).toContain('/occurredAt');
  });

  it('accepts RFC 3339 dates with offsets, lower-case separators and fractions', () => {
    for (const occurredAt of ['2026-11-27T13:00:00+05:30', '2026-11-27t13:00:00.123456z', '2000-01-01T00:00:00Z']) {
      expect(parseEvent(JSON.stringify({ ...valid['stock.set'], occurredAt })).ok).toBe(true);
    }
  });
});

describe('inboundSubject', () => {
  it('puts events under <prefix>.in.<type>', () => {
    expect(inboundSubject('inventory', 'order.confirmed')).toBe('inventory.in.order.confirmed');
    expect(inboundSubject('acme.stock', 'stock.set')).toBe('acme.stock.in.stock.set');
  });
});

describe('EVENT_SCHEMAS', () => {
  it('publishes one schema per event type, pinned to its type', () => {
    expect(Object.keys(EVENT_SCHEMAS).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) {
      const schema = EVENT_SCHEMAS[type] as { properties: { type: { const: string } }; additionalProperties: boolean };
      expect(schema.properties.type.const).toBe(type);
      expect(schema.additionalProperties).toBe(false);
    }
  });
});
