import type { ChannelConfig, HubConfig, LoadedConfig } from '../../config/config-types.ts';
import { loadConnectorDefinition } from '../../plugins/load-connector-definition.ts';
import type { ConnectorDefinition, SimulatorHandle, SimulatorOptions } from '../../sdk.ts';
import { deepFreeze } from '../../config/deep-freeze.ts';
import { ConfigError } from '../../internal.ts';

export interface SimulatedChannel {
  channel: ChannelConfig;
  definition: ConnectorDefinition;
  simulator: SimulatorHandle;
}

export interface SimulatedChannels {
  /** The config with every channel's options pointing at its simulator. */
  loaded: LoadedConfig;
  channels: SimulatedChannel[];
  close(): Promise<void>;
}

/**
 * Swaps every channel of a config for its connector's simulator, so a demo or a load test drives the
 * real hub, NATS and Postgres without ever touching a real channel. A channel whose connector ships
 * no simulator is refused by name: it cannot be simulated, and calling the real API is never an option here.
 */
export async function startSimulatedChannels(
  loaded: LoadedConfig,
  options: {
    skus: Record<string, number>;
    simulator?: (channel: ChannelConfig) => SimulatorOptions;
    /** Only these channels (by id); default every enabled one. */
    only?: readonly string[];
  },
): Promise<SimulatedChannels> {
  const channels: SimulatedChannel[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(channels.map((c) => c.simulator.close().catch(() => undefined)));
  };
  try {
    const chosen = loaded.config.channels.filter((c) => (options.only ? options.only.includes(c.id) : c.enabled));
    for (const channel of chosen) {
      const definition = await loadConnectorDefinition(channel.connector, loaded.dir, channel.id);
      if (!definition.simulator) throw new ConfigError(`channel "${channel.id}": connector "${definition.name}" ships no simulator, so it cannot be simulated`);
      const simulator = await definition.simulator({ skus: options.skus, ...options.simulator?.(channel) });
      channels.push({ channel, definition, simulator });
    }
  } catch (err) {
    await close();
    throw err;
  }
  const skuList = Object.keys(options.skus);
  const config: HubConfig = {
    ...loaded.config,
    channels: loaded.config.channels.map((channel) => {
      const simulated = channels.find((c) => c.channel.id === channel.id);
      return simulated ? { ...channel, options: simulated.simulator.connectorOptions(skuList) as Record<string, unknown> } : channel;
    }),
  };
  return { loaded: { ...loaded, config: deepFreeze(config) }, channels, close };
}
