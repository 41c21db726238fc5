import type { ChannelConfig } from '../config/config-types.ts';
import type { EffectiveLimits } from '../dispatch/dispatch-types.ts';
import type { ConnectorContext, ConnectorDefinition, ConnectorInstance, ConnectorStateStore, Logger } from '../sdk.ts';
import { ConfigError, ErrorCodes, PluginError, describeError } from '../internal.ts';
import { loadConnectorDefinition } from './load-connector-definition.ts';
import { validateConnectorOptions } from './validate-connector-options.ts';
import { effectiveLimits } from './effective-limits.ts';
import { stampConnectorErrors } from './stamp-connector-errors.ts';
import { bindLogger } from '../logger.ts';

/** A channel's connector, started and ready for its dispatcher. */
export interface LoadedConnector {
  channelId: string;
  definition: ConnectorDefinition;
  /** The connector's instance, wrapped so every error escaping it carries the channel id. */
  instance: ConnectorInstance;
  /** The connector's capabilities with the channel's config overrides applied. */
  limits: EffectiveLimits;
}

/** What the hub lends a connector for its lifetime. */
export interface ConnectorHost {
  /** Aborted when the hub shuts down; handed to `create` as the context's signal. */
  signal: AbortSignal;
  /** The hub's logger; the connector gets one that adds `{ channel: <id> }` to every line. */
  logger: Logger;
  /** The channel's durable connector state (the ledger database's, in a hub). */
  state: ConnectorStateStore;
  /** Masks a value the connector obtained at run time everywhere the hub prints or answers. */
  registerSecret(value: string): void;
}

/**
 * Loads and starts the connector of one channel: imports the module, checks the definition (contract
 * version before anything of the plugin runs), validates the channel's options against the connector's
 * schema, then calls `create` with the options (defaults applied, frozen).
 *
 * Throws a {@link PluginError} whose message names the channel and the cause; codes as for
 * `loadConnectorDefinition`, plus `SR_PLUGIN_OPTIONS` (its `cause` is a {@link ConfigError} whose `problems`
 * have paths like `options/apiKey`) and `SR_PLUGIN_CREATE` (`cause`: what `create` threw).
 */
export async function loadConnector(channel: ChannelConfig, configDir: string, host: ConnectorHost): Promise<LoadedConnector> {
  const definition = await loadConnectorDefinition(channel.connector, configDir, channel.id);

  const checked = validateConnectorOptions(definition, channel.options);
  if (!checked.ok) {
    const list = checked.problems.map((p) => `${p.path} ${p.message}`).join('; ');
    throw new PluginError(ErrorCodes.PLUGIN_OPTIONS, channel.id, `options do not fit connector "${definition.name}": ${list}`, {
      cause: new ConfigError(`options of channel "${channel.id}" do not fit connector "${definition.name}"`, checked.problems),
    });
  }

  if (host.signal.aborted) {
    throw new PluginError(ErrorCodes.PLUGIN_CREATE, channel.id, `connector "${definition.name}" was not started: the hub is shutting down`, { cause: host.signal.reason });
  }
  const context: ConnectorContext = {
    channelId: channel.id,
    logger: bindLogger(host.logger, { channel: channel.id }),
    signal: host.signal,
    state: host.state,
    registerSecret: (value) => host.registerSecret(value),
  };
  let instance: ConnectorInstance;
  try {
    instance = await definition.create(checked.options, context);
  } catch (err) {
    throw new PluginError(ErrorCodes.PLUGIN_CREATE, channel.id, `connector "${definition.name}" failed to start: ${describeError(err)}`, { cause: err });
  }
  if (typeof instance !== 'object' || instance === null || typeof instance.push !== 'function') {
    throw new PluginError(ErrorCodes.PLUGIN_INVALID, channel.id, `connector "${definition.name}": create() must return an object with a push function`);
  }

  const limits = effectiveLimits(definition.capabilities, channel.limits);
  if (channel.limits.maxBatchSize !== undefined && channel.limits.maxBatchSize > definition.capabilities.maxBatchSize) {
    host.logger.warn(`channel "${channel.id}": limits.maxBatchSize ${channel.limits.maxBatchSize} is above what connector "${definition.name}" accepts; using ${limits.maxBatchSize}`, {
      channel: channel.id,
    });
  }
  return Object.freeze({ channelId: channel.id, definition, instance: stampConnectorErrors(instance, channel.id), limits });
}
