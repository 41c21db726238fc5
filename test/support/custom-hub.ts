import { fileURLToPath } from 'node:url';
import type { LoadedConfig } from '../../core/config/config-types.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { freshDatabase, NATS_URL, uniqueSuffix, type FreshDatabase } from './servers.ts';

/** Absolute path of a fixture plugin under test/fixtures/plugins/. */
export function fixturePlugin(file: string): string {
  return fileURLToPath(new URL(`../fixtures/plugins/${file}`, import.meta.url));
}

export interface CustomHubSetup {
  raw: Record<string, unknown>;
  loaded: LoadedConfig;
  database: FreshDatabase;
  cleanup(): Promise<void>;
}

/**
 * A hub config on the real servers (own database, streams, subjects, consumer) with any channels and
 * any extra top-level sections (`http`, `dispatch`...), merged over the defaults here.
 */
export async function setupCustomHub(options: { channels: unknown[]; http?: Record<string, unknown>; dispatch?: Record<string, unknown>; extra?: Record<string, unknown> }): Promise<CustomHubSetup> {
  const suffix = uniqueSuffix();
  const database = await freshDatabase('custom');
  const raw: Record<string, unknown> = {
    nats: { servers: [NATS_URL], stream: `SR_IN_${suffix}`, deadLetterStream: `SR_DLQ_${suffix}`, subjectPrefix: `t${suffix}`, consumer: `core_${suffix}`, ackWaitMs: 3000 },
    database: { url: database.url, poolSize: 4 },
    http: { host: '127.0.0.1', port: 0, ...options.http },
    dispatch: { backoffBaseMs: 50, backoffMaxMs: 1000, reconcileIntervalMs: 1000, ...options.dispatch },
    channels: options.channels,
    ...options.extra,
  };
  const checked = validateConfigObject(raw);
  if (!checked.ok) {
    await database.drop();
    throw new Error(`test config invalid: ${JSON.stringify(checked.problems)}`);
  }
  return {
    raw,
    loaded: checked.loaded,
    database,
    async cleanup() {
      const bus = await NatsBus.connect(checked.loaded.config.nats);
      await bus.deleteTopology();
      await bus.close();
      await database.drop();
    },
  };
}
