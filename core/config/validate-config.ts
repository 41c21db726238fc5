import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { HubConfig, LoadedConfig } from './config-types.ts';
import type { Problem } from '../errors.ts';
import type { JsonSchema } from '../sdk.ts';
import { createAjv } from './create-ajv.ts';
import { problemsFromAjv } from './ajv-problems.ts';
import { resolveSecrets, type MissingSecret, type ResolvedSecret } from './secret-ref.ts';
import { deepFreeze } from './deep-freeze.ts';

/** The published config schema (`config/stockrelay.schema.json`), as shipped in the repo. */
export const CONFIG_SCHEMA: JsonSchema = JSON.parse(readFileSync(new URL('../../config/stockrelay.schema.json', import.meta.url), 'utf8')) as JsonSchema;

// Compiled once: the schema is fixed for the life of the process.
const validateSchema = createAjv({ useDefaults: true, strict: true }).compile(CONFIG_SCHEMA);

export const EMBEDDED_DATABASE_WARNING = 'embedded PGlite ledger: for trials only, runs with fsync off';

/** Everything found while checking a config, whether or not it is valid. */
export interface ConfigInspection {
  /** Every problem at once: schema errors, duplicate channel ids, cross-field rules, missing secrets. */
  problems: Problem[];
  /** The subset of `problems` that are unresolved secret references. */
  missingSecrets: MissingSecret[];
  /** Every secret reference resolved, with its value (never to be printed: to be masked). */
  resolvedSecrets: ResolvedSecret[];
  /**
   * The config with defaults applied and secrets resolved as far as they could be (an unresolved secret
   * reads as an empty string). Matches {@link HubConfig} only when `problems` is empty.
   */
  config: HubConfig;
  warnings: string[];
}

/**
 * Checks a parsed config without throwing. `raw` is not changed. Used by {@link validateConfigObject},
 * `loadConfig`, and `stockrelay validate` (which goes on to check connector options even when the file
 * has other problems).
 */
export function inspectConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): ConfigInspection {
  const data = cloneJson(raw);
  const missingSecrets: MissingSecret[] = [];
  const resolved: ResolvedSecret[] = [];
  const warnings: string[] = [];

  // Secrets are resolved BEFORE the schema runs, so a value from the environment meets the same rules
  // as one written in the file (a 16-character token, a URL); a problem with it names the variable.
  if (isRecord(data)) {
    const database = data.database;
    if (isRecord(database) && database.url !== undefined) database.url = resolveSecrets(database.url, '/database/url', env, missingSecrets, resolved);
    const http = data.http;
    if (isRecord(http) && Array.isArray(http.tokens)) {
      http.tokens.forEach((entry: unknown, i: number) => {
        if (isRecord(entry) && entry.token !== undefined) entry.token = resolveSecrets(entry.token, `/http/tokens/${i}/token`, env, missingSecrets, resolved);
      });
    }
    const alerts = data.alerts;
    if (isRecord(alerts) && alerts.webhookUrl !== undefined) alerts.webhookUrl = resolveSecrets(alerts.webhookUrl, '/alerts/webhookUrl', env, missingSecrets, resolved);
    if (Array.isArray(data.channels)) {
      data.channels.forEach((channel: unknown, i: number) => {
        if (isRecord(channel) && channel.options !== undefined) channel.options = resolveSecrets(channel.options, `/channels/${i}/options`, env, missingSecrets, resolved);
      });
    }
  }

  validateSchema(data);
  const missingPaths = missingSecrets.map((s) => s.path);
  // An unset variable reads as '': its "is not set" says it all, the schema's complaint about '' is noise.
  const problems = problemsFromAjv(validateSchema.errors)
    .filter((problem) => !missingPaths.some((path) => isAtOrUnder(problem.path, path)))
    .map((problem) => {
      const source = resolved.find((secret) => isAtOrUnder(problem.path, secret.path));
      return source ? { ...problem, message: `${problem.message} (value from environment variable ${source.variable})` } : problem;
    });

  if (isRecord(data)) {
    problems.push(...duplicateChannelIds(data.channels));
    problems.push(...crossFieldProblems(data));

    const database = data.database;
    if (isRecord(database) && database.url !== undefined) {
      if (typeof database.url === 'string' && database.url !== '' && !/^postgres(ql)?:\/\//.test(database.url)) {
        // The value may hold a password: say what is wrong without echoing it.
        const source = resolved.find((secret) => secret.path === '/database/url');
        problems.push({ path: '/database/url', message: `must be a postgres:// or postgresql:// URL${source ? ` (value from environment variable ${source.variable})` : ''}` });
      }
    } else if (isRecord(database)) {
      warnings.push(EMBEDDED_DATABASE_WARNING);
    }

    if (Array.isArray(data.channels) && data.channels.length > 0 && data.channels.every((c: unknown) => isRecord(c) && c.enabled === false)) {
      warnings.push('every channel is disabled: the hub will keep the ledger but push nowhere');
    }
    // Only there so editors find the schema; not part of HubConfig.
    delete data.$schema;
  }
  problems.push(...missingSecrets.map(({ path, message }) => ({ path, message })));

  return { problems, missingSecrets, resolvedSecrets: resolved, config: data as unknown as HubConfig, warnings };
}

function isAtOrUnder(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

/**
 * Validates a parsed config object and, when it is valid, returns it loaded: defaults applied, secrets
 * resolved, deep-frozen. Never throws; every problem is returned at once, each with its JSON path.
 * `file` (the config's path) only sets `path` and `dir` of the result; without it `dir` is the working directory.
 */
export function validateConfigObject(
  raw: unknown,
  env: NodeJS.ProcessEnv = process.env,
  file?: string,
): { ok: true; loaded: LoadedConfig } | { ok: false; problems: Problem[] } {
  const inspection = inspectConfig(raw, env);
  if (inspection.problems.length > 0) return { ok: false, problems: inspection.problems };
  return { ok: true, loaded: toLoadedConfig(inspection, file) };
}

/** Freezes an inspection without problems into a {@link LoadedConfig}. */
export function toLoadedConfig(inspection: ConfigInspection, file?: string): LoadedConfig {
  const path = file === undefined ? '' : resolve(file);
  return Object.freeze({
    config: deepFreeze(inspection.config),
    path,
    dir: file === undefined ? process.cwd() : dirname(path),
    warnings: [...inspection.warnings],
    resolvedSecrets: Object.freeze(inspection.resolvedSecrets.map((secret) => secret.value)),
  });
}

function duplicateChannelIds(channels: unknown): Problem[] {
  if (!Array.isArray(channels)) return [];
  const firstAt = new Map<string, number>();
  const problems: Problem[] = [];
  channels.forEach((channel: unknown, i: number) => {
    if (!isRecord(channel) || typeof channel.id !== 'string') return;
    const first = firstAt.get(channel.id);
    if (first === undefined) firstAt.set(channel.id, i);
    else problems.push({ path: `/channels/${i}/id`, message: `duplicate channel id "${channel.id}" (first used at /channels/${first}/id)` });
  });
  return problems;
}

function crossFieldProblems(data: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const dispatch = data.dispatch;
  if (isRecord(dispatch) && typeof dispatch.backoffBaseMs === 'number' && typeof dispatch.backoffMaxMs === 'number' && dispatch.backoffMaxMs < dispatch.backoffBaseMs) {
    problems.push({ path: '/dispatch/backoffMaxMs', message: `must not be below backoffBaseMs (${dispatch.backoffBaseMs})` });
  }
  if (Array.isArray(data.channels)) {
    data.channels.forEach((channel: unknown, i: number) => {
      const forecast = isRecord(channel) && isRecord(channel.rules) ? channel.rules.forecast : undefined;
      if (isRecord(forecast) && typeof forecast.minHorizonMs === 'number' && typeof forecast.maxHorizonMs === 'number' && forecast.maxHorizonMs < forecast.minHorizonMs) {
        problems.push({ path: `/channels/${i}/rules/forecast/maxHorizonMs`, message: `must not be below minHorizonMs (${forecast.minHorizonMs})` });
      }
    });
  }
  return problems;
}

function cloneJson(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return JSON.parse(JSON.stringify(value)) as unknown;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
