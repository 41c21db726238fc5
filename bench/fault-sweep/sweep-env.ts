import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { LoadedConfig } from '../../core/config/config-types.ts';
import { startSandboxSimulator } from '../../connectors/sandbox/simulator.ts';
import { HubProcess } from './hub-process.ts';
import { startPrivateNats, type PrivateNats } from './private-nats.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import { Workload, type SweepChannel } from './workload.ts';
import type { WriteCursors } from './invariants.ts';

/** The machine's PostgreSQL, as an administrator; the sweep makes a database of its own there. */
export const PG_ADMIN_URL = process.env.STOCKRELAY_SWEEP_PG ?? process.env.STOCKRELAY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface SweepEnvOptions {
  label: string;
  /** 1: one nats-server; 3: a cluster with R3 streams. */
  natsNodes: 1 | 3;
  hubs: 1 | 2;
  skus: number;
  stockPerSku: number;
  dir: string;
}

/**
 * Everything one group of sweep runs shares: a database reached through a cuttable proxy, private NATS
 * servers, three sandbox channels (a fast batching one, a one-SKU-per-call one, a slow one), a config
 * file, the hub processes and the workload that plays channels and warehouse.
 */
export class SweepEnv {
  readonly hubs: HubProcess[] = [];
  readonly channels: SweepChannel[] = [];
  readonly skus: string[];
  /** Where each run's check of channel writes starts. */
  readonly writeCursors: WriteCursors = new Map();
  workload!: Workload;
  bus!: NatsBus;
  nats!: PrivateNats;
  proxy!: TcpProxy;
  loaded!: LoadedConfig;
  databaseUrl = '';
  #databaseName = '';
  #dir = '';

  constructor(readonly options: SweepEnvOptions) {
    this.skus = Array.from({ length: options.skus }, (_, i) => `SW-${String(i).padStart(3, '0')}`);
  }

  async start(): Promise<void> {
    const { options } = this;
    const suffix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    this.#dir = await mkdtemp(join(tmpdir(), `stockrelay-sweep-${options.label}-`));
    this.#databaseName = `sr_sweep_${options.label.replace(/[^a-z0-9]/gi, '_')}_${suffix}`.toLowerCase();
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${this.#databaseName}`);
    await admin.end();
    const direct = new URL(PG_ADMIN_URL);
    direct.pathname = `/${this.#databaseName}`;
    this.databaseUrl = direct.toString();
    this.proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(this.databaseUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.proxy.port);

    this.nats = await startPrivateNats(options.natsNodes);
    const start = Object.fromEntries(this.skus.map((sku) => [sku, options.stockPerSku]));
    const shapes = [
      { id: 'fast', limits: { perSecond: 20, burst: 20, maxBatchSize: 50 }, latency: { p50: 20, p99: 80 } },
      { id: 'single', limits: { perSecond: 10, burst: 10, maxBatchSize: 1 }, latency: { p50: 20, p99: 80 } },
      { id: 'slow', limits: { perSecond: 4, burst: 4, maxBatchSize: 10 }, latency: { p50: 60, p99: 250 } },
    ];
    for (const shape of shapes) {
      const webhookSecret = `sweep-${shape.id}-${suffix}`;
      const simulator = await startSandboxSimulator({ latency: shape.latency, skus: start, webhookSecret, rateLimit: { perSecond: shape.limits.perSecond, burst: shape.limits.burst } });
      this.channels.push({ id: shape.id, simulator, webhookSecret });
    }
    const config = {
      nats: {
        servers: this.nats.servers,
        stream: `SW_IN_${suffix}`,
        deadLetterStream: `SW_DLQ_${suffix}`,
        subjectPrefix: `sw${suffix}`,
        consumer: `sweep_${suffix}`,
        replicas: options.natsNodes,
        // A killed hub's unacknowledged deliveries come back after this: short, so runs settle quickly.
        ackWaitMs: 3000,
      },
      database: { url: proxied.toString(), poolSize: 4 },
      http: { host: '127.0.0.1', port: 0 },
      dispatch: { backoffBaseMs: 100, backoffMaxMs: 2000, reconcileIntervalMs: 2000, pushTimeoutMs: 5000 },
      channels: shapes.map((shape, i) => ({ id: shape.id, connector: 'sandbox', options: this.channels[i]!.simulator.connectorOptions([]), limits: shape.limits })),
    };
    const checked = validateConfigObject(config);
    if (!checked.ok) throw new Error(`sweep config invalid: ${JSON.stringify(checked.problems)}`);
    this.loaded = checked.loaded;
    const configFile = join(this.#dir, 'hub.json');
    await writeFile(configFile, JSON.stringify(config, null, 2));

    // A new cluster elects its JetStream leader a few seconds after the routes connect; until then
    // JetStream does not answer and replicated streams cannot be placed.
    for (let attempt = 0; ; attempt += 1) {
      try {
        this.bus = await NatsBus.connect(this.loaded.config.nats, 'stockrelay-sweep');
        await this.bus.ensureTopology();
        break;
      } catch (err) {
        await this.bus?.close().catch(() => undefined);
        if (attempt >= 30) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    await this.bus.publishEvent({ id: `sweep:${suffix}:seed`, type: 'stock.set', channel: 'warehouse', occurredAt: new Date().toISOString(), lines: this.skus.map((sku) => ({ sku, quantity: options.stockPerSku })) });

    for (let i = 0; i < options.hubs; i++) this.hubs.push(new HubProcess(`hub-${i + 1}`, configFile, join(options.dir, `${options.label}-hub-${i + 1}.log`)));
    await Promise.all(this.hubs.map((hub) => hub.start()));
    // A seller's first counts come before the orders (see "More than one hub" in the README): with two
    // hubs, an order applied before the other hub committed its SKU's count is an unknown-SKU line.
    await this.#seeded(60_000);
    this.workload = new Workload(
      this.channels,
      this.skus,
      () => this.hubs.filter((hub) => hub.running && hub.url).map((hub) => hub.url),
      () => this.bus,
      `${options.label}-${suffix}`,
    );
  }

  async #seeded(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      for (;;) {
        const rows = await client.query('select count(*)::int as n from stock').catch(() => ({ rows: [{ n: 0 }] }));
        if ((rows.rows[0] as { n: number }).n >= this.skus.length) return;
        if (Date.now() > deadline) throw new Error(`the seed counts were not applied within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await client.end();
    }
  }

  /** Messages the hubs have not applied yet: waiting in the stream or delivered and unacknowledged. */
  async unapplied(): Promise<number> {
    const { stream, consumer } = this.loaded.config.nats;
    const info = await this.bus.jsm.consumers.info(stream, consumer);
    return info.num_pending + info.num_ack_pending;
  }

  /** Every channel shows the ledger's quantity for every SKU. */
  async converged(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      const rows = (await client.query<{ sku: string; available: number }>('select sku, available from stock')).rows;
      const ledger = new Map(rows.map((r) => [r.sku, r.available]));
      return this.channels.every(({ simulator }) => this.skus.every((sku) => simulator.shown(sku) === ledger.get(sku)));
    } finally {
      await client.end();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.hubs.map((hub) => hub.close().catch(() => undefined)));
    await this.bus?.close().catch(() => undefined);
    await Promise.all(this.channels.map((c) => c.simulator.close().catch(() => undefined)));
    await this.nats?.close().catch(() => undefined);
    await this.proxy?.close().catch(() => undefined);
    if (this.#databaseName) {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${this.#databaseName} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}
