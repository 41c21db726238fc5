import { dirname, resolve } from 'node:path';
import type { Problem } from '../errors.ts';
import { describeError } from '../errors.ts';
import { readJsonFile } from './read-json-file.ts';
import { inspectConfig } from './validate-config.ts';
import { formatProblems } from './format-problems.ts';
import { inlineSkuMapFiles } from './sku-map-file.ts';
import { loadConnectorDefinition } from '../plugins/load-connector-definition.ts';
import { validateConnectorOptions } from '../plugins/validate-connector-options.ts';

/**
 * `stockrelay validate <file>`: checks a config file the way the hub would at start, without connecting
 * to anything or calling any connector's `create`. Prints every problem with its JSON path (the config's
 * own, then each enabled channel's connector: module, definition, options) and returns the exit code:
 * 0 when the hub would start, 1 otherwise.
 */
export async function runValidate(file: string, out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const path = resolve(file);
  let raw: unknown;
  try {
    raw = await readJsonFile(path);
  } catch (err) {
    out(describeError(err));
    return 1;
  }

  // A SKU map kept in a file is checked as if written in place; a bad file is a problem at its `file` field.
  const read = await inlineSkuMapFiles(raw, dirname(path));
  const inspection = inspectConfig(read.raw, env);
  const problems: Problem[] = [...read.problems, ...inspection.problems];
  const notes: string[] = [];
  // An unresolved secret reads as '' in the inspected config; the options schema would only repeat it.
  const missingSecretPaths = new Set(inspection.missingSecrets.map((s) => s.path));
  const channels: unknown[] = Array.isArray(inspection.config.channels) ? inspection.config.channels : [];

  for (const [i, channel] of channels.entries()) {
    if (!isRecord(channel) || typeof channel.connector !== 'string' || channel.connector === '') continue;
    const id = typeof channel.id === 'string' ? channel.id : `#${i}`;
    if (channel.enabled === false) {
      notes.push(`channel "${id}" is disabled: its connector was not checked`);
      continue;
    }
    try {
      const definition = await loadConnectorDefinition(channel.connector, dirname(path), id);
      if (!isRecord(channel.options)) continue;
      const checked = validateConnectorOptions(definition, channel.options);
      if (checked.ok) continue;
      for (const problem of checked.problems) {
        const at = `/channels/${i}/${problem.path}`;
        if (missingSecretPaths.has(at)) continue;
        const file = read.inlined.find((ref) => at === ref.path || at.startsWith(`${ref.path}/`));
        problems.push({ path: at, message: `${problem.message} (connector "${definition.name}"${file ? `, in mapping file ${file.file}` : ''})` });
      }
    } catch (err) {
      problems.push({ path: `/channels/${i}/connector`, message: describeError(err) });
    }
  }

  if (problems.length > 0) {
    out(`${path}: ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}`);
    for (const line of formatProblems(problems).split('\n')) out(line);
  } else {
    const ids = channels.map((c) => (isRecord(c) ? String(c.id) : '?'));
    out(`${path}: OK (${ids.length} ${ids.length === 1 ? 'channel' : 'channels'}: ${ids.join(', ')})`);
  }
  for (const warning of inspection.warnings) out(`warning: ${warning}`);
  for (const note of notes) out(`note: ${note}`);
  return problems.length > 0 ? 1 : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
