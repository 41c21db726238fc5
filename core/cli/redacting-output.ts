import { parseArgs } from 'node:util';
import type { LoadedConfig } from '../config/config-types.ts';
import { loadConfig } from '../config/load-config.ts';
import { loadConnectorDefinition } from '../plugins/load-connector-definition.ts';
import { addChannelSecrets, addConfigSecrets } from '../secrets/config-secrets.ts';
import { SecretRegistry } from '../secrets/secret-registry.ts';

type Out = (line: string) => void;

/**
 * `out` with every secret of the config named by `--config` in `args` masked: what a command prints
 * from the ledger or the dead letters (channel errors that echoed a request) never shows a credential,
 * even one stored before the hub masked it. Without a readable config, `out` as is: the command itself
 * then reports the config's problem.
 */
export async function redactingOutput(args: readonly string[], out: Out): Promise<Out> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string', short: 'c' } }, strict: false, allowPositionals: true });
  if (typeof values.config !== 'string') return out;
  let secrets: SecretRegistry;
  try {
    secrets = await configSecrets(await loadConfig(values.config));
  } catch {
    return out;
  }
  return (line) => out(secrets.redact(line));
}

/** Every secret a config holds: its own (tokens, URLs) and the options its connectors' schemas mark secret. */
export async function configSecrets(loaded: LoadedConfig): Promise<SecretRegistry> {
  const secrets = new SecretRegistry();
  addConfigSecrets(secrets, loaded);
  for (const channel of loaded.config.channels) {
    const definition = await loadConnectorDefinition(channel.connector, loaded.dir, channel.id).catch(() => undefined);
    if (definition) addChannelSecrets(secrets, channel, definition.optionsSchema);
  }
  return secrets;
}
