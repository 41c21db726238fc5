import { createHash } from 'node:crypto';

/**
 * A short fingerprint of a channel's connector and options: stored with a "not listed" answer, so a
 * changed mapping, account or connector brings the SKU back. Keys are sorted so reordering the config
 * file changes nothing; the options are hashed, never stored, since they hold secrets.
 */
export function channelConfigFingerprint(channel: { connector: string; options: unknown }): string {
  return createHash('sha256').update(stableJson({ connector: channel.connector, options: channel.options })).digest('hex').slice(0, 24);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
