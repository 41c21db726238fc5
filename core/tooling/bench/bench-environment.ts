import pg from 'pg';
import type { HubConfig, LoadedConfig } from '../../config/config-types.ts';
import { deepFreeze } from '../../config/deep-freeze.ts';
import { NatsBus } from '../../bus/nats-bus.ts';

/** A copy of a seller's config that a bench run can wreck: its own database, streams and consumer. */
export interface BenchEnvironment {
  loaded: LoadedConfig;
  /** Drops the bench database and deletes its streams. */
  destroy(): Promise<void>;
}

/**
 * Points a config at throw-away resources so a bench never reads or writes the seller's ledger or
 * stream: a new database on the same Postgres server (or an in-memory PGlite), streams and a consumer
 * named after `runId`, and a free HTTP port.
 */
export function isolateConfig(loaded: LoadedConfig, runId: string): BenchEnvironment {
  const tag = runId.replace(/[^a-zA-Z0-9]/g, '').toLowerCase();
  const base = loaded.config;
  let databaseUrl: string | undefined;
  let databaseName: string | undefined;
  if (base.database.url !== undefined) {
    const url = new URL(base.database.url);
    databaseName = `stockrelay_bench_${tag}`;
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
  }
  const config: HubConfig = {
    ...base,
    nats: { ...base.nats, stream: `SR_BENCH_IN_${tag}`, deadLetterStream: `SR_BENCH_DLQ_${tag}`, subjectPrefix: `bench${tag}`, consumer: `bench_${tag}` },
    database: { ...base.database, url: databaseUrl, dataDir: undefined, poolSize: Math.max(base.database.poolSize, 8) },
    http: { ...base.http, host: '127.0.0.1', port: 0 },
  };
  const isolated: LoadedConfig = { ...loaded, config: deepFreeze(config) };
  return {
    loaded: isolated,
    async destroy() {
      const bus = await NatsBus.connect(config.nats, 'stockrelay-bench-cleanup').catch(() => undefined);
      if (bus) {
        await bus.deleteTopology().catch(() => undefined);
        await bus.close();
      }
      if (databaseUrl !== undefined && databaseName !== undefined) {
        const admin = new URL(databaseUrl);
        admin.pathname = '/postgres';
        const client = new pg.Client({ connectionString: admin.toString() });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
        } catch {
          // A bench database left behind costs disk, not correctness; its name says what it is.
        } finally {
          await client.end().catch(() => undefined);
        }
      }
    },
  };
}
