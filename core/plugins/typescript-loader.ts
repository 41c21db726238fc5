import { pathToFileURL } from 'node:url';
import { resolvePackage } from './resolve-package.ts';

const TYPESCRIPT_FILE = /\.[cm]?ts$/;

/**
 * Whether importing a `.ts` file needs a loader this process does not have yet. Not when this module is
 * itself TypeScript (the hub runs from its sources, through tsx or a test runner, which load any `.ts`), nor
 * when Node strips types by itself (`process.features.typescript`, Node 22.18 and later), except for a file
 * inside node_modules, which Node refuses to strip. The compiled package on Node 20 does need one.
 */
export function needsTypeScriptLoader(file: string): boolean {
  if (!TYPESCRIPT_FILE.test(file)) return false;
  if (TYPESCRIPT_FILE.test(new URL(import.meta.url).pathname)) return false;
  if (/[\\/]node_modules[\\/]/.test(file)) return true;
  return !(process.features as { typescript?: unknown }).typescript;
}

let registered: Promise<void> | undefined;

/**
 * Registers tsx's loader for the rest of the process, found from the first of `fromDirs` that has it (the
 * plugin's folder, then the config's: a plugin author installs tsx beside the plugin) or else from
 * stockrelay's own folder. A compiled hub does not
 * depend on tsx; a connector written in TypeScript brings it, or is compiled to JavaScript.
 *
 * Must run before the first attempt to import a `.ts` file: Node remembers a module that failed to load and
 * answers every later import of it with the same error.
 *
 * Throws an Error saying what to install when tsx is nowhere to be found.
 */
export function registerTypeScriptLoader(fromDirs: readonly string[]): Promise<void> {
  registered ??= register(fromDirs).catch((err: unknown) => {
    registered = undefined;
    throw err;
  });
  return registered;
}

async function register(fromDirs: readonly string[]): Promise<void> {
  const local = fromDirs.map((dir) => resolvePackage('tsx/esm/api', dir)?.file).find((file) => file !== undefined);
  let api: { register?: unknown };
  try {
    api = (await import(/* @vite-ignore */ local === undefined ? 'tsx/esm/api' : pathToFileURL(local).href)) as { register?: unknown };
  } catch (err) {
    throw new Error(
      'this Node cannot load TypeScript by itself and tsx is not installed: run `npm install --save-dev tsx` in the connector\'s folder, use Node 22.18 or later, or compile the connector to JavaScript',
      { cause: err },
    );
  }
  if (typeof api.register !== 'function') throw new Error('the installed tsx has no esm/api register(): install tsx 4 or later');
  (api.register as () => unknown)();
}
