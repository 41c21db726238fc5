import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderHtmlReport } from './html-report.ts';
import type { ScenarioResult } from './scenario-types.ts';

/** Writes `<name>-<time>.json` and `.html` into `dir` (created when missing); returns both paths. */
export async function writeResultFiles(result: ScenarioResult, dir: string): Promise<{ json: string; html: string }> {
  const folder = resolve(dir);
  await mkdir(folder, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const base = join(folder, `${result.name}-${stamp}`);
  await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(`${base}.html`, renderHtmlReport(result));
  return { json: `${base}.json`, html: `${base}.html` };
}
