import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePackage } from './resolve-package.ts';
import { isDirectory, isFile } from './file-probe.ts';

/** Where a connector module comes from, as decided from the `connector` string in config. */
export type ConnectorSource =
  /** A file of the user's, given as a path relative to the config file (or absolute). `file` is absent when nothing is there. */
  | { kind: 'path'; spec: string; file: string | undefined; tried: string[] }
  /** A connector shipped with stockrelay under `connectors/<name>/` (its sources in a checkout, compiled in the package). */
  | { kind: 'builtin'; spec: string; file: string | undefined; tried: string[] }
  /**
   * An installed package. `file` is its entry as found from the config file's folder (a `node_modules` there
   * or in a parent), and `packageDir` the folder it was found in. When no folder on the way up holds it, both
   * are undefined and the package is imported by name from stockrelay's own folder.
   */
  | { kind: 'package'; spec: string; file: string | undefined; packageDir: string | undefined };

const CONNECTORS_DIR = fileURLToPath(new URL('../../connectors/', import.meta.url));
const BUILTIN_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const INDEX_FILES = ['index.ts', 'index.js', 'index.mjs'];
const EXTENSIONS = ['.ts', '.js', '.mjs'];
// Sources in a checkout, compiled JavaScript in the installed package.
const BUILTIN_INDEX_FILES = ['index.ts', 'index.js'];

/**
 * The built-in connectors: every folder under `connectors/` whose name does not start with `_`
 * (those hold code the connectors share, not connectors).
 */
export function listBuiltinConnectors(): string[] {
  try {
    return readdirSync(CONNECTORS_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && BUILTIN_NAME.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Decides where `spec` points. Anything starting with `.` or `/` is a path relative to `configDir`: a
 * file (extension optional) or a folder with an index file or a package.json `main`. A built-in name
 * resolves to `connectors/<name>/index.ts` (`index.js` once compiled). Everything else is a package name,
 * looked up from `configDir` first (so a connector installed beside the config wins over one installed
 * beside stockrelay). Nothing is imported here.
 */
export function resolveConnectorSource(spec: string, configDir: string): ConnectorSource {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    const target = resolve(configDir, spec);
    const tried: string[] = [];
    return { kind: 'path', spec, file: findModuleFile(target, tried), tried };
  }
  if (BUILTIN_NAME.test(spec) && listBuiltinConnectors().includes(spec)) {
    const tried = BUILTIN_INDEX_FILES.map((index) => join(CONNECTORS_DIR, spec, index));
    const file = tried.find(isFile);
    return { kind: 'builtin', spec, file, tried: file === undefined ? tried : tried.slice(0, tried.indexOf(file) + 1) };
  }
  const installed = resolvePackage(spec, configDir);
  return { kind: 'package', spec, file: installed?.file, packageDir: installed?.packageDir };
}

function findModuleFile(target: string, tried: string[]): string | undefined {
  tried.push(target);
  if (isFile(target)) return target;
  if (isDirectory(target)) {
    const main = packageMain(target);
    if (main !== undefined) {
      const file = resolve(target, main);
      tried.push(file);
      if (isFile(file)) return file;
    }
    for (const index of INDEX_FILES) {
      const file = join(target, index);
      tried.push(file);
      if (isFile(file)) return file;
    }
    return undefined;
  }
  for (const ext of EXTENSIONS) {
    const file = `${target}${ext}`;
    tried.push(file);
    if (isFile(file)) return file;
  }
  return undefined;
}

function packageMain(dir: string): string | undefined {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return undefined;
  try {
    const main = (JSON.parse(readFileSync(manifest, 'utf8')) as { main?: unknown }).main;
    return typeof main === 'string' && main !== '' ? main : undefined;
  } catch {
    return undefined;
  }
}
