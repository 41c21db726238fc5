import { readFile } from 'node:fs/promises';

/**
 * stockrelay's version from its package.json, found by walking up from this file (the sources and a
 * compiled copy sit at different depths); "0.0.0" when none is found.
 */
export async function serverVersion(): Promise<string> {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const manifest = JSON.parse(await readFile(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'stockrelay' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // not here: one folder up
    }
    if (dir.pathname === '/') return '0.0.0';
  }
}
