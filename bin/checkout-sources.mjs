// In a git checkout, `stockrelay` imported from a module of the checkout itself (the connector template
// imports the package by name, as a plugin author's copy does) or from a project that links the checkout
// (`npm link`, a symlink in node_modules) means the checkout's TypeScript sources, not its dist/ build, which
// may be missing or stale. Used by the bin (as a Node resolve hook) and by the test runner's config.
// The installed package never loads this file.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const NAME = 'stockrelay';
const CHECKOUT = realpathSync(fileURLToPath(new URL('..', import.meta.url)));

/** Export subpath (`stockrelay`, `stockrelay/kit`) → source file, read from package.json: `./dist/x.js` is built from `./x.ts`. */
const SOURCES = (() => {
  const manifest = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8'));
  const sources = new Map();
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    const built = typeof target === 'string' ? target : target?.default;
    if (typeof built !== 'string' || !built.startsWith('./dist/') || !built.endsWith('.js')) continue;
    const source = join(CHECKOUT, built.slice('./dist/'.length, -'.js'.length) + '.ts');
    if (existsSync(source)) sources.set(subpath === '.' ? NAME : `${NAME}${subpath.slice(1)}`, source);
  }
  return sources;
})();

/**
 * The checkout's source file for `specifier` imported from the file `importer`, or undefined when the import
 * is not one of stockrelay's entries or does not resolve to this checkout.
 */
export function checkoutSourceFor(specifier, importer) {
  const source = SOURCES.get(specifier);
  if (source === undefined) return undefined;
  return packageRootFor(importer) === CHECKOUT ? source : undefined;
}

/** Registers the resolve hook below for the rest of the process (after tsx, so it runs first). */
export function registerCheckoutSources() {
  register(import.meta.url);
}

/** Node resolve hook: see the top of this file. */
export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith(NAME) && context.parentURL?.startsWith('file:')) {
    const source = checkoutSourceFor(specifier, fileURLToPath(context.parentURL));
    // Handed on rather than answered here, so the TypeScript loader after this hook still sees the file.
    if (source !== undefined) return nextResolve(pathToFileURL(source).href, context);
  }
  return nextResolve(specifier, context);
}

/** Where Node would find `stockrelay` from `importer`: itself (self-reference) or a node_modules on the way up. */
function packageRootFor(importer) {
  const start = dirname(importer);
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === NAME) return realpathSync(dir);
      } catch {
        // An unreadable package.json is not stockrelay's.
      }
      break;
    }
    if (dirname(dir) === dir) break;
  }
  for (let dir = start; ; dir = dirname(dir)) {
    const installed = join(dir, 'node_modules', NAME);
    if (existsSync(installed)) return realpathSync(installed);
    if (dirname(dir) === dir) return undefined;
  }
}
