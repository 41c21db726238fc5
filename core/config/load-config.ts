import { dirname, resolve } from 'node:path';
import type { LoadedConfig } from './config-types.ts';
import { ConfigError, ErrorCodes } from '../internal.ts';
import { readJsonFile } from './read-json-file.ts';
import { inspectConfig, toLoadedConfig } from './validate-config.ts';
import { formatProblems } from './format-problems.ts';
import { inlineSkuMapFiles, type InlineOptions } from './sku-map-file.ts';

/**
 * Reads, validates and freezes the hub config at `path`.
 *
 * Defaults come from the schema; `{"env": "NAME"}` references are replaced by `env[NAME]`. Throws a
 * {@link ConfigError} listing every problem with its JSON path: code `SR_CONFIG_READ` when the file is
 * missing or not JSON, `SR_CONFIG_SECRET_MISSING` when only secrets are missing, `SR_CONFIG_INVALID` otherwise.
 * A channel's SKU map written as `{"file": "<path>"}` is read from that file (relative to the config's folder).
 */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env, skuMaps: InlineOptions = {}): Promise<LoadedConfig> {
  const file = resolve(path);
  const read = await inlineSkuMapFiles(await readJsonFile(file), dirname(file), skuMaps);
  const inspection = inspectConfig(read.raw, env);
  inspection.problems.unshift(...read.problems);
  const { problems, missingSecrets } = inspection;
  if (problems.length === 0) return toLoadedConfig(inspection, file);

  if (missingSecrets.length === problems.length) {
    const names = [...new Set(missingSecrets.map((s) => s.variable))].join(', ');
    throw new ConfigError(
      `config file ${file} refers to environment variables that are not set (${names}):\n${formatProblems(problems)}`,
      problems,
      ErrorCodes.CONFIG_SECRET_MISSING,
    );
  }
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  throw new ConfigError(`config file ${file} has ${count}:\n${formatProblems(problems)}`, problems, ErrorCodes.CONFIG_INVALID);
}
