import { validateConfigObject } from '../../core/config/validate-config.ts';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import type { Hub, HubOptions } from '../../core/hub.ts';
import { startSimulatedChannels, type SimulatedChannels } from '../../core/tooling/simulation/simulated-channels.ts';
import type { SimulatorOptions } from '../../core/sdk.ts';
import { freshDatabase, NATS_URL, uniqueSuffix, type FreshDatabase } from './servers.ts';
import { startHub } from './test-hub.ts';

export interface SimulatedHub {
  hub: Hub;
  simulated: SimulatedChannels;
  database: FreshDatabase;
  simulator(channelId: string): SimulatedChannels['channels'][number]['simulator'];
  stop(): Promise<void>;
}

/**
 * A hub on the real servers whose channels run the given connectors, each against its own simulator
 * (listing `skus`), with webhooks pointed at the hub.
 */
export async function startSimulatedHub(options: {
  channels: Array<{ id: string; connector: string; limits?: Record<string, number>; rules?: Record<string, unknown> }>;
  skus: Record<string, number>;
  simulator?: (channelId: string) => SimulatorOptions;
  dispatch?: Record<string, unknown>;
  hub?: HubOptions;
}): Promise<SimulatedHub> {
  const suffix = uniqueSuffix();
  const database = await freshDatabase('sim');
  const raw = {
    nats: { servers: [NATS_URL], stream: `SR_IN_${suffix}`, deadLetterStream: `SR_DLQ_${suffix}`, subjectPrefix: `t${suffix}`, consumer: `core_${suffix}`, ackWaitMs: 3000 },
    database: { url: database.url, poolSize: 4 },
    http: { host: '127.0.0.1', port: 0 },
    dispatch: { backoffBaseMs: 50, backoffMaxMs: 1000, reconcileIntervalMs: 1000, ...options.dispatch },
    channels: options.channels.map((c) => ({ options: {}, ...c })),
  };
  const checked = validateConfigObject(raw);
  if (!checked.ok) throw new Error(`test config invalid: ${JSON.stringify(checked.problems)}`);
  const simulated = await startSimulatedChannels(checked.loaded, {
    skus: options.skus,
    simulator: (channel) => ({ latency: { p50: 0, p99: 0 }, ...options.simulator?.(channel.id) }),
  });
  let hub: Hub;
  try {
    hub = await startHub(simulated, { pollIntervalMs: 200, ...options.hub });
  } catch (err) {
    await simulated.close();
    await database.drop();
    throw err;
  }
  for (const { channel, simulator } of simulated.channels) simulator.setWebhookTarget?.(`${hub.url}/webhooks/${channel.id}`);
  return {
    hub,
    simulated,
    database,
    simulator: (channelId) => {
      const found = simulated.channels.find((c) => c.channel.id === channelId);
      if (!found) throw new Error(`no simulated channel ${channelId}`);
      return found.simulator;
    },
    async stop() {
      await hub.stop();
      await simulated.close();
      const bus = await NatsBus.connect(checked.loaded.config.nats);
      await bus.deleteTopology();
      await bus.close();
      await database.drop();
    },
  };
}
