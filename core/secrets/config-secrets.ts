import type { ChannelConfig, LoadedConfig } from '../config/config-types.ts';
import type { JsonSchema } from '../sdk.ts';
import { writeOnlyValues } from './secret-fields.ts';
import type { SecretRegistry } from './secret-registry.ts';

/** Longest plain option value paired with a secret (`clientId:clientSecret`); longer ones are not ids. */
const MAX_PAIR_PART = 256;

/**
 * Registers every secret the config holds: each value read from the environment (`{"env": ...}`),
 * every API token, the database URL's password. Channel options come with {@link addChannelSecrets}
 * once the connector's schema is known.
 */
export function addConfigSecrets(registry: SecretRegistry, loaded: LoadedConfig): void {
  for (const value of loaded.resolvedSecrets ?? []) registry.add(value);
  const { config } = loaded;
  for (const token of config.http.tokens) registry.add(token.token);
  const password = databasePassword(config.database.url);
  if (password !== undefined) {
    registry.add(password);
    registry.add(decodeSafely(password));
  }
}

/**
 * Registers a channel's secret options: the values its connector's options schema marks `writeOnly`,
 * and the `id:secret` credentials they make with the channel's other short string options (Basic
 * credentials, OAuth client credentials, `keystring:shared secret` API keys).
 */
export function addChannelSecrets(registry: SecretRegistry, channel: ChannelConfig, optionsSchema: JsonSchema): void {
  const secrets = writeOnlyValues(optionsSchema, channel.options);
  for (const secret of secrets) registry.add(secret);
  // Top-level values only: ids sit there, and a SKU map of thousands must not multiply the registry.
  const plain = Object.values(channel.options).filter((value): value is string => typeof value === 'string' && value.length <= MAX_PAIR_PART);
  for (const secret of secrets) {
    for (const other of plain) {
      if (other === secret) continue;
      registry.addPair(other, secret);
    }
  }
}

function databasePassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}

function decodeSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
