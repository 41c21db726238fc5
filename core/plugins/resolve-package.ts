import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isDirectory, isFile } from './file-probe.ts';

/** Where a package import resolved from one folder lands. */
export interface ResolvedPackage {
  /** The package's folder (symlinks followed), as found under a `node_modules` of the folder or an ancestor. */
  packageDir: string;
  /** The module file the import names, or undefined when the package is there but does not export it. */
  file: string | undefined;
}

/** The conditions an `import()` from Node matches in an `exports` map, in Node's own terms. */
const CONDITIONS = new Set(['import', 'node', 'default']);
const INDEX_FILES = ['index.js', 'index.mjs'];

/**
 * Resolves a bare import such as `stockrelay-connector-acme` or `@acme/connector/sub` the way Node's
 * `import()` would from a module in `fromDir`: the nearest `node_modules/<name>` in `fromDir` or one of its
 * ancestors, then the package's `exports` (conditions `import`, `node`, `default`; subpath patterns with `*`),
 * or, without `exports`, its `main` or `index.js`.
 *
 * Node resolves a bare `import()` only from the importing module's own folder; a host that loads what a
 * user's config names needs it from the config's folder instead. Returns undefined when no folder on the way
 * up holds the package. Nothing is imported.
 */
export function resolvePackage(spec: string, fromDir: string): ResolvedPackage | undefined {
  const name = packageName(spec);
  const subpath = `.${spec.slice(name.length)}`;
  for (let dir = resolve(fromDir); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (isDirectory(candidate)) {
      const packageDir = realpathSync(candidate);
      return { packageDir, file: entryFile(packageDir, subpath) };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** `@scope/name` or `name`: the part of a bare import that names the package. */
export function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

function entryFile(packageDir: string, subpath: string): string | undefined {
  const manifest = readManifest(packageDir);
  if (manifest?.exports !== undefined && manifest.exports !== null) {
    const target = exportsTarget(manifest.exports, subpath);
    if (target === undefined || !target.startsWith('./')) return undefined;
    const file = resolve(packageDir, target);
    return isFile(file) ? file : undefined;
  }
  if (subpath === '.') {
    const main = typeof manifest?.main === 'string' && manifest.main !== '' ? resolve(packageDir, manifest.main) : undefined;
    const candidates = [...(main === undefined ? [] : [main, `${main}.js`, join(main, 'index.js')]), ...INDEX_FILES.map((index) => join(packageDir, index))];
    return candidates.find(isFile);
  }
  const target = resolve(packageDir, subpath);
  return [target, `${target}.js`, `${target}.mjs`, join(target, 'index.js')].find(isFile);
}

/** The target `exports` gives `subpath`: exact keys first, then the longest matching `*` pattern. */
function exportsTarget(exportsField: unknown, subpath: string): string | undefined {
  const map = isSubpathMap(exportsField) ? exportsField : { '.': exportsField };
  if (Object.hasOwn(map, subpath)) return conditionalTarget(map[subpath]);
  const patterns = Object.keys(map)
    .filter((key) => key.includes('*'))
    .sort((a, b) => b.indexOf('*') - a.indexOf('*'));
  for (const key of patterns) {
    const star = key.indexOf('*');
    const prefix = key.slice(0, star);
    const suffix = key.slice(star + 1);
    if (subpath.length >= key.length - 1 && subpath.startsWith(prefix) && subpath.endsWith(suffix)) {
      const matched = subpath.slice(prefix.length, subpath.length - suffix.length);
      return conditionalTarget(map[key])?.replaceAll('*', matched);
    }
  }
  return undefined;
}

function conditionalTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = conditionalTarget(item);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    // Conditions are tried in the map's own order, as Node does; the first one that applies decides.
    for (const [condition, target] of Object.entries(value)) {
      if (CONDITIONS.has(condition)) {
        const found = conditionalTarget(target);
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}

function isSubpathMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).some((key) => key.startsWith('.'));
}

function readManifest(dir: string): { exports?: unknown; main?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown; main?: unknown };
  } catch {
    return undefined;
  }
}
