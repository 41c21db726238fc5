import type { SecretRef } from './config-types.ts';
import type { Problem } from '../errors.ts';

/**
 * A secret reference is an object whose only key is `env`, holding a string. Anything else is plain data,
 * so a connector option that merely contains an `env` key next to others is left alone.
 */
export function isSecretRef(value: unknown): value is SecretRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'env' && typeof (value as SecretRef).env === 'string';
}

/** A secret that could not be resolved: `path` is where the reference sits, `variable` what it names. */
export interface MissingSecret extends Problem {
  variable: string;
}

/** A secret reference that was resolved: where it sits, what it named, and the value it read. */
export interface ResolvedSecret {
  path: string;
  variable: string;
  value: string;
}

/**
 * Returns a copy of `value` with every secret reference replaced by its environment variable.
 * Each one resolved is added to `resolved` (when given), so later checks can name the variable.
 * An unset or empty variable is reported in `missing` (with the JSON path of the reference) and left as
 * an empty string, so the rest of the value can still be checked.
 */
export function resolveSecrets(value: unknown, path: string, env: NodeJS.ProcessEnv, missing: MissingSecret[], resolved?: ResolvedSecret[]): unknown {
  if (isSecretRef(value)) {
    const found = env[value.env];
    if (found === undefined || found === '') {
      const why = found === undefined ? 'is not set' : 'is empty';
      missing.push({ path, variable: value.env, message: `secret environment variable ${value.env} ${why}` });
      return '';
    }
    resolved?.push({ path, variable: value.env, value: found });
    return found;
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveSecrets(item, `${path}/${i}`, env, missing, resolved));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = resolveSecrets(item, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, env, missing, resolved);
    return out;
  }
  return value;
}
