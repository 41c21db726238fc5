import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const TEMPLATE = join(REPO, 'connectors', '_template');

/**
 * Lays out a plugin author's project the way the template's README says, in a temporary folder
 * outside the repo: the template copied to `my-connector/` with its package.json, and stockrelay
 * and undici installed. Returns the project folder.
 */
export function authorProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stockrelay-plugin-'));
  const plugin = join(dir, 'my-connector');
  cpSync(TEMPLATE, plugin, { recursive: true });
  renameSync(join(plugin, 'package.template.json'), join(plugin, 'package.json'));
  // Renamed in the copy, so a report naming it proves the copy (not the repo's template) was loaded.
  const index = join(plugin, 'index.ts');
  writeFileSync(index, readFileSync(index, 'utf8').replace("name: 'acme'", "name: 'acme-outside'"));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'stockrelay'), 'dir');
  symlinkSync(join(REPO, 'node_modules', 'undici'), join(dir, 'node_modules', 'undici'), 'dir');
  return dir;
}
