import { resolve } from 'node:path';
import { readJsonFile } from '../../config/read-json-file.ts';
import { resolveSecrets, type MissingSecret } from '../../config/secret-ref.ts';
import { loadConnectorDefinition } from '../../plugins/load-connector-definition.ts';
import { describeError, isStockrelayError } from '../../sdk.ts';
import type { ConformanceCheckResult } from './conformance-report.ts';
import { runConformance } from './run-conformance.ts';

export interface TestConnectorArgs {
  /** A path (starting with `.` or `/`, relative to `cwd`), a built-in connector name, or a package name. */
  spec: string;
  /**
   * A JSON file pointing the connector at a real endpoint instead of its simulator: the options object
   * itself, or `{ "options": {...}, "skus": ["..."] }` to name SKUs the channel lists (pushes write to them).
   * Secret references (`{"env": "NAME"}`) are resolved from the environment.
   */
  optionsFile?: string;
  cwd: string;
  /** Receives each line of output as it is produced. */
  out: (line: string) => void;
  signal?: AbortSignal;
}

const MARK = { pass: '✓', fail: '✗', skip: '–' } as const;

/**
 * `stockrelay test-connector <spec> [--options file]`: runs the conformance suite against a connector
 * and prints a line per check. Resolves the exit code: 0 when every check that ran passed, 1 otherwise.
 */
export async function runTestConnector(args: TestConnectorArgs): Promise<number> {
  const { out } = args;
  let endpoint: { connectorOptions: Record<string, unknown>; skus?: string[] } | undefined;
  try {
    if (args.optionsFile !== undefined) endpoint = await readEndpoint(resolve(args.cwd, args.optionsFile));
  } catch (err) {
    out(`${MARK.fail} options: ${describeError(err)}`);
    return 1;
  }

  let definition;
  try {
    definition = await loadConnectorDefinition(args.spec, args.cwd);
  } catch (err) {
    out(`${MARK.fail} load ${args.spec}: ${isStockrelayError(err) ? `${err.code}: ` : ''}${describeError(err)}`);
    return 1;
  }

  out(`conformance: ${definition.name} ${endpoint ? `against ${args.optionsFile}` : 'against its simulator'}`);
  const report = await runConformance(definition, {
    connectorOptions: endpoint?.connectorOptions,
    skus: endpoint?.skus,
    signal: args.signal,
    onCheck: (check) => out(formatCheck(check)),
  });
  const count = (status: ConformanceCheckResult['status']): number => report.checks.filter((c) => c.status === status).length;
  out(`${report.passed ? 'PASS' : 'FAIL'} ${report.connector}: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  return report.passed ? 0 : 1;
}

/** One line per check: mark, name, time, and why when it did not pass. */
export function formatCheck(check: ConformanceCheckResult): string {
  const line = `${MARK[check.status]} ${check.name} (${check.ms} ms)`;
  return check.status === 'pass' ? line : `${line}: ${check.detail}`;
}

async function readEndpoint(file: string): Promise<{ connectorOptions: Record<string, unknown>; skus?: string[] }> {
  const raw = await readJsonFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${file} must hold a JSON object`);
  const keys = Object.keys(raw);
  const wrapped = keys.includes('options') && keys.every((k) => k === 'options' || k === 'skus');
  const body = raw as { options?: unknown; skus?: unknown };
  const options = wrapped ? body.options : raw;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new Error(`${file}: "options" must be an object`);
  if (wrapped && body.skus !== undefined && !(Array.isArray(body.skus) && body.skus.every((s) => typeof s === 'string'))) {
    throw new Error(`${file}: "skus" must be an array of strings`);
  }
  const missing: MissingSecret[] = [];
  const connectorOptions = resolveSecrets(options, 'options', process.env, missing) as Record<string, unknown>;
  if (missing.length > 0) throw new Error(missing.map((m) => m.message).join('; '));
  return { connectorOptions, skus: wrapped ? (body.skus as string[] | undefined) : undefined };
}
