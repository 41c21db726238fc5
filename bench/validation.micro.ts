import { Bench } from 'tinybench';
import { parseEvent } from '../core/events/validate-event.ts';
import { rowsOf, type MicroRow } from './micro-row.ts';

/** parseEvent on the bytes of a stream message: JSON parse plus the ajv schema check, per event. */
export async function validationMicro(timeMs = 1_000): Promise<MicroRow[]> {
  const encoder = new TextEncoder();
  const order = encoder.encode(
    JSON.stringify({ id: 'shop-1:order:100234:confirmed', type: 'order.confirmed', channel: 'shop-1', occurredAt: new Date().toISOString(), orderId: '100234', lines: [{ sku: 'SKU-1', qty: 1 }, { sku: 'SKU-2', qty: 2 }, { sku: 'SKU-3', qty: 1 }] }),
  );
  const invalid = encoder.encode(JSON.stringify({ id: 'x', type: 'order.confirmed', channel: 'shop-1', occurredAt: 'yesterday', lines: [] }));
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  bench.add('validate: order.confirmed, 3 lines', () => {
    if (!parseEvent(order).ok) throw new Error('valid event refused');
  });
  bench.add('validate: invalid event (all errors collected)', () => {
    if (parseEvent(invalid).ok) throw new Error('invalid event accepted');
  });
  await bench.run();
  return rowsOf(bench);
}
