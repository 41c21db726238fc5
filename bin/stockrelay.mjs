#!/usr/bin/env node
// Installed from npm, this runs the compiled JavaScript in dist/ with plain Node. In a git checkout (the
// TypeScript sources lie beside this file) it runs the sources through tsx, a dev dependency, so an edit
// needs no build and a checkout needs no build step before `npm run demo`.
import { existsSync } from 'node:fs';

const sources = new URL('../core/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/core/cli/main.js', import.meta.url);

async function entry() {
  if (existsSync(sources)) {
    let tsx;
    try {
      tsx = await import('tsx/esm/api');
    } catch {
      if (existsSync(compiled)) return compiled;
      process.stderr.write('stockrelay: this checkout runs its TypeScript sources through tsx, which is not installed: run `npm ci`, or `npm run build` to run the compiled output\n');
      process.exit(1);
    }
    tsx.register();
    // `stockrelay` imported from inside this checkout (the connector template, a linked plugin) means its sources too.
    const { registerCheckoutSources } = await import('./checkout-sources.mjs');
    registerCheckoutSources();
    return sources;
  }
  return compiled;
}

const { main } = await import((await entry()).href);
process.exitCode = await main(process.argv.slice(2));
