import { randomBytes } from 'node:crypto';
import type { NatsSettings } from '../../core/bus/nats-bus.ts';
import pg from 'pg';

export const NATS_URL = process.env.STOCKRELAY_TEST_NATS ?? 'nats://127.0.0.1:4222';
export const PG_ADMIN_URL = process.env.STOCKRELAY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A short random suffix so every test run gets its own database, streams and subjects. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty Postgres database for one test file; `drop` removes it. */
export async function freshDatabase(label = 'test'): Promise<FreshDatabase> {
  const name = `sr_${label}_${uniqueSuffix()}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const base = new URL(PG_ADMIN_URL);
  base.pathname = `/${name}`;
  return {
    url: base.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * NATS settings with streams, subjects and a consumer of their own on the shared test server, at the
 * config's defaults unless `overrides` say otherwise.
 */
export function freshNatsSettings(overrides: Partial<NatsSettings> = {}): NatsSettings {
  const suffix = uniqueSuffix();
  return {
    servers: [NATS_URL],
    stream: `SR_IN_${suffix}`,
    deadLetterStream: `SR_DLQ_${suffix}`,
    subjectPrefix: `t${suffix}`,
    consumer: `core_${suffix}`,
    duplicateWindowMs: 120_000,
    replicas: 1,
    ackWaitMs: 10_000,
    inboundMaxAgeMs: 7 * 24 * 3_600_000,
    inboundMaxBytes: -1,
    deadLetterMaxAgeMs: 30 * 24 * 3_600_000,
    deadLetterMaxBytes: 1 << 30,
    ...overrides,
  };
}
