import { Bench } from 'tinybench';
import type { ConnectorDefinition, ConnectorInstance, StockUpdate } from '../core/sdk.ts';
import { rowsOf, type MicroRow } from './micro-row.ts';
import { memoryConnectorState } from '../core/plugins/memory-connector-state.ts';

const CONNECTORS = ['sandbox', 'shopify', 'woocommerce', 'bigcommerce', 'ebay', 'etsy', 'tiktok', 'amazon', 'walmart'];

/**
 * Each connector's push against its own simulator with no added latency and no rate limit: the cost of
 * encoding the request (signing, auth, body) plus one loopback HTTP round trip and the simulator's
 * decoding. One op = one push of one SKU, and one push of a full batch (up to 25 items).
 */
export async function connectorsMicro(timeMs = 500): Promise<MicroRow[]> {
  const rows: MicroRow[] = [];
  // A pool much larger than a batch: eBay counts revisions per listing per day, and a fast loop on 25 SKUs spends them.
  const skus = Array.from({ length: 2_000 }, (_, i) => `C-${i}`);
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  for (const name of CONNECTORS) {
    const definition = (await import(`../connectors/${name}/index.ts`)).default as ConnectorDefinition;
    if (!definition.simulator) continue;
    const simulator = await definition.simulator({ skus: Object.fromEntries(skus.map((s) => [s, 0])), latency: { p50: 0, p99: 0 }, rateLimit: { perSecond: 1e6, burst: 1e6 } });
    const abort = new AbortController();
    let instance: ConnectorInstance | undefined;
    try {
      instance = await definition.create(simulator.connectorOptions(skus) as never, { channelId: `bench-${name}`, logger: silent, signal: abort.signal, state: memoryConnectorState(), registerSecret: () => {} });
      const batchSize = Math.min(25, definition.capabilities.maxBatchSize);
      let q = 0;
      let offset = 0;
      const updates = (count: number): StockUpdate[] => {
        offset = (offset + count) % (skus.length - count);
        return skus.slice(offset, offset + count).map((sku) => ({ sku, quantity: (q++ % 90) + 1, version: q }));
      };
      const push = async (count: number): Promise<void> => {
        const results = await instance!.push(updates(count), abort.signal);
        const bad = results.find((r) => r.status !== 'ok');
        if (bad) throw new Error(`${name}: ${bad.status} ${'reason' in bad ? bad.reason : ''}`);
      };
      const bench = new Bench({ time: timeMs, warmupTime: 100, throws: false });
      bench.add(`connector ${name}: push 1 SKU`, () => push(1));
      if (batchSize > 1) bench.add(`connector ${name}: push ${batchSize} SKUs`, () => push(batchSize));
      await bench.run();
      rows.push(...rowsOf(bench, { [`connector ${name}: push ${batchSize} SKUs`]: batchSize }));
    } catch (err) {
      rows.push({ name: `connector ${name}`, opsPerSec: 0, itemsPerOp: 1, meanMs: 0, p50Ms: 0, p99Ms: 0, samples: 0, error: err instanceof Error ? err.message : String(err) });
    } finally {
      abort.abort();
      await instance?.close?.().catch(() => undefined);
      await simulator.close();
    }
  }
  return rows;
}
