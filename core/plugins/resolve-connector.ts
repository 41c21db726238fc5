import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where a connector module comes from, as decided from the `connector` string in config. */
export type ConnectorSource =
  /** A file of the user's, given as a path relative to the config file (or absolute). `file` is absent when nothing is there. */
  | { kind: 'path'; spec: string; file: string | undefined; tried: string[] }
  /** A connector shipped in this repo under `connectors/<name>/`. */
  | { kind: 'builtin'; spec: string; file: string | undefined; tried: string[] }
  /** An installed package, imported by name. */
  | { kind: 'package'; spec: string };

const CONNECTORS_DIR = fileURLToPath(new URL('../../connectors/', import.meta.url));
const BUILTIN_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const INDEX_FILES = ['index.ts', 'index.js', 'index.mjs'];
const EXTENSIONS = ['.ts', '.js', '.mjs'];

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
 * resolves to `connectors/<name>/index.ts` of this repo. Everything else is a package name.
 * Nothing is imported here.
 */
export function resolveConnectorSource(spec: string, configDir: string): ConnectorSource {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    const target = resolve(configDir, spec);
    const tried: string[] = [];
    return { kind: 'path', spec, file: findModuleFile(target, tried), tried };
  }
  if (BUILTIN_NAME.test(spec) && listBuiltinConnectors().includes(spec)) {
    const file = join(CONNECTORS_DIR, spec, 'index.ts');
    return { kind: 'builtin', spec, file: isFile(file) ? file : undefined, tried: [file] };
  }
  return { kind: 'package', spec };
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

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
