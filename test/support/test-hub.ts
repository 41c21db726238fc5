import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { LoadedConfig } from '../../core/config/config-types.ts';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { Hub, type HubOptions } from '../../core/hub.ts';
import { createLogger } from '../../core/logger.ts';
import { startSandboxSimulator, type SandboxSimulator, type SandboxSimulatorOptions } from '../../connectors/sandbox/simulator.ts';
import { freshDatabase, NATS_URL, uniqueSuffix, type FreshDatabase } from './servers.ts';

export interface TestChannel {
  id: string;
  simulator?: SandboxSimulatorOptions;
  limits?: Record<string, number>;
  rules?: Record<string, number>;
}

export interface TestHubSetup {
  config: Record<string, unknown>;
  loaded: LoadedConfig;
  database: FreshDatabase;
  simulators: Map<string, SandboxSimulator>;
  suffix: string;
  /** Deletes streams, database and simulators. */
  cleanup(): Promise<void>;
}

/**
 * Everything a hub test needs on the real servers: its own Postgres database, its own streams,
 * subjects and consumer on the shared NATS, and one sandbox simulator per channel.
 */
export async function setupTestHub(options: { channels: TestChannel[]; nats?: Record<string, unknown>; dispatch?: Record<string, unknown>; ledger?: Record<string, unknown> }): Promise<TestHubSetup> {
  const suffix = uniqueSuffix();
  const database = await freshDatabase('hub');
  const simulators = new Map<string, SandboxSimulator>();
  for (const channel of options.channels) simulators.set(channel.id, await startSandboxSimulator({ latency: { p50: 0, p99: 0 }, ...channel.simulator }));
  const config = {
    nats: {
      servers: [NATS_URL],
      stream: `SR_IN_${suffix}`,
      deadLetterStream: `SR_DLQ_${suffix}`,
      subjectPrefix: `t${suffix}`,
      consumer: `core_${suffix}`,
      ...options.nats,
    },
    database: { url: database.url, poolSize: 4 },
    http: { host: '127.0.0.1', port: 0 },
    dispatch: { backoffBaseMs: 50, backoffMaxMs: 1000, reconcileIntervalMs: 1000, ...options.dispatch },
    ...(options.ledger ? { ledger: options.ledger } : {}),
    channels: options.channels.map((channel) => ({
      id: channel.id,
      connector: 'sandbox',
      options: simulators.get(channel.id)!.connectorOptions([]),
      ...(channel.limits ? { limits: channel.limits } : {}),
      ...(channel.rules ? { rules: channel.rules } : {}),
    })),
  };
  const result = validateConfigObject(config);
  if (!result.ok) throw new Error(`test config invalid: ${JSON.stringify(result.problems)}`);
  return {
    config,
    loaded: result.loaded,
    database,
    simulators,
    suffix,
    async cleanup() {
      await Promise.all([...simulators.values()].map((s) => s.close()));
      const bus = await NatsBus.connect(result.loaded.config.nats);
      await bus.deleteTopology();
      await bus.close();
      await database.drop();
    },
  };
}

export function startHub(setup: Pick<TestHubSetup, 'loaded'>, options: HubOptions = {}): Promise<Hub> {
  return Hub.start(setup.loaded, { logger: createLogger({}, 'silent'), processMetrics: false, httpPort: 0, ...options });
}

/** Polls `check` until it returns true or `timeoutMs` passes; throws with `what` on timeout. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
