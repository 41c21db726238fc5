import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { Pool } from 'undici';
import { validateConfigObject } from '../core/config/validate-config.ts';
import { setupTestHub, startHub, waitFor } from '../test/support/test-hub.ts';
import { rowsOf, type MicroRow } from './micro-row.ts';

/** One paced run: requests sent on a fixed schedule whatever the answers do (open loop). */
export interface PacedRow {
  name: string;
  targetRate: number;
  /** Answers per second actually received over the run. */
  achievedRate: number;
  /** Latency from the moment a request was sent. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Latency from the moment the schedule said to send it: includes any wait the client itself fell behind by. */
  p99FromScheduleMs: number;
  samples: number;
  errors: number;
}

export interface ReadApiBenchOptions {
  /** Requests per second of the paced run. Default 1000. */
  rate?: number;
  /** Length of the paced run, ms (after a 1 s warm-up at the same rate). Default 10 000. */
  durationMs?: number;
  /** Length of the back-to-back tinybench run, ms. Default 2000. */
  tinybenchMs?: number;
  /** SKUs in the ledger, read in turn. Default 1000. */
  skus?: number;
  /** Channels per SKU in every answer. Default 3. */
  channels?: number;
}

const TOKEN = 'bench-read-token-0123456789';

/**
 * Single-SKU reads through `GET /v1/inventory/:sku` against a hub on the real NATS and Postgres, with
 * keep-alive connections (undici Pool): back to back with tinybench, then paced at `rate` requests/s,
 * the load an agent fleet or storefront puts on it. Every answer is a fresh ledger read (two queries).
 */
export async function readApiBench(options: ReadApiBenchOptions = {}): Promise<Array<MicroRow | PacedRow>> {
  const rate = options.rate ?? 1000;
  const durationMs = options.durationMs ?? 10_000;
  const skuCount = options.skus ?? 1000;
  const channelCount = options.channels ?? 3;
  const setup = await setupTestHub({ channels: Array.from({ length: channelCount }, (_, i) => ({ id: `ch${i}` })), dispatch: { reconcileIntervalMs: 30_000 } });
  const result = validateConfigObject({ ...setup.config, http: { host: '127.0.0.1', port: 0, tokens: [{ token: TOKEN, scope: 'read' }] } });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const hub = await startHub({ ...setup, loaded: result.loaded });
  const pool = new Pool(hub.url, { connections: 16, pipelining: 1, keepAliveTimeout: 30_000 });
  try {
    const skus = Array.from({ length: skuCount }, (_, i) => `RB-${String(i).padStart(5, '0')}`);
    // An event carries at most 500 lines (the event schemas' limit).
    const seeds: string[] = [];
    for (let from = 0; from < skus.length; from += 500) {
      const id = `bench:read:seed:${from}`;
      seeds.push(id);
      await hub.publish({ id, type: 'stock.set', channel: 'bench', occurredAt: new Date().toISOString(), lines: skus.slice(from, from + 500).map((sku, i) => ({ sku, quantity: 100 + from + i })) });
    }
    await waitFor('the seed to be applied', async () => (await Promise.all(seeds.map((id) => hub.ledger.isProcessed(id)))).every(Boolean), 60_000);
    await hub.idle(AbortSignal.timeout(60_000));

    let next = 0;
    const read = async (): Promise<void> => {
      const sku = skus[next++ % skus.length]!;
      const res = await pool.request({ method: 'GET', path: `/v1/inventory/${sku}`, headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await res.body.json()) as { available?: number };
      if (res.statusCode !== 200 || typeof body.available !== 'number') throw new Error(`read ${sku}: HTTP ${res.statusCode}`);
    };

    const bench = new Bench({ time: options.tinybenchMs ?? 2_000, warmupTime: 300 });
    bench.add('read api: GET /v1/inventory/:sku back to back, client on the hub thread', read);
    await bench.run();
    const rows: Array<MicroRow | PacedRow> = rowsOf(bench);

    // The paced client runs on a thread of its own, as an agent fleet would run elsewhere: its
    // scheduling and response parsing must not queue behind the hub's own event loop.
    rows.push({ name: `read api: GET /v1/inventory/:sku at ${rate}/s`, targetRate: rate, ...(await pacedInWorker({ url: hub.url, token: TOKEN, skus, rate, durationMs })) });
    return rows;
  } finally {
    await pool.close();
    await hub.stop();
    await setup.cleanup();
  }
}

interface ClientJob {
  url: string;
  token: string;
  skus: string[];
  rate: number;
  durationMs: number;
}

function pacedInWorker(job: ClientJob): Promise<Omit<PacedRow, 'name' | 'targetRate'>> {
  return new Promise((resolve, reject) => {
    // Node does not hand tsx's loader to worker threads: the worker registers it, then loads this file.
    const entry = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(entry, { eval: true, workerData: { readApiClient: job } });
    worker.once('message', (row: Omit<PacedRow, 'name' | 'targetRate'>) => resolve(row));
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`read api client exited with ${code}`))));
  });
}

/** The client thread: a keep-alive pool, a 1 s warm-up at the target rate, then the measured run. */
async function runClient(job: ClientJob): Promise<Omit<PacedRow, 'name' | 'targetRate'>> {
  const pool = new Pool(job.url, { connections: 16, pipelining: 1, keepAliveTimeout: 30_000 });
  let next = 0;
  const read = async (): Promise<void> => {
    const sku = job.skus[next++ % job.skus.length]!;
    const res = await pool.request({ method: 'GET', path: `/v1/inventory/${sku}`, headers: { authorization: `Bearer ${job.token}` } });
    const body = (await res.body.json()) as { available?: number };
    if (res.statusCode !== 200 || typeof body.available !== 'number') throw new Error(`read ${sku}: HTTP ${res.statusCode}`);
  };
  try {
    await paced(read, job.rate, 1_000);
    return await paced(read, job.rate, job.durationMs);
  } finally {
    await pool.close();
  }
}

/** Sends `rate` requests a second for `durationMs`, each at its scheduled time, and measures every answer. */
async function paced(call: () => Promise<void>, rate: number, durationMs: number): Promise<Omit<PacedRow, 'name' | 'targetRate'>> {
  const total = Math.round((rate * durationMs) / 1000);
  const fromSend: number[] = [];
  const fromSchedule: number[] = [];
  const running = new Set<Promise<void>>();
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
    for (; sent < due; sent += 1) {
      const scheduledAt = start + (sent * 1000) / rate;
      const sentAt = performance.now();
      const task = call().then(
        () => {
          const end = performance.now();
          fromSend.push(end - sentAt);
          fromSchedule.push(end - scheduledAt);
        },
        () => {
          errors += 1;
        },
      );
      running.add(task);
      void task.finally(() => running.delete(task));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(running);
  const elapsedS = (performance.now() - start) / 1000;
  fromSend.sort((a, b) => a - b);
  fromSchedule.sort((a, b) => a - b);
  return {
    achievedRate: round(fromSend.length / elapsedS),
    p50Ms: round(quantile(fromSend, 0.5), 3),
    p99Ms: round(quantile(fromSend, 0.99), 3),
    maxMs: round(fromSend.at(-1) ?? 0, 3),
    p99FromScheduleMs: round(quantile(fromSchedule, 0.99), 3),
    samples: fromSend.length,
    errors,
  };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function round(value: number, digits = 1): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

const clientJob = isMainThread ? undefined : (workerData as { readApiClient?: ClientJob } | null)?.readApiClient;
if (clientJob) parentPort!.postMessage(await runClient(clientJob));
else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await readApiBench({ rate: Number(process.env.READ_BENCH_RATE ?? 1000), durationMs: Number(process.env.READ_BENCH_MS ?? 10_000) });
  for (const row of rows) console.log(JSON.stringify(row));
}
