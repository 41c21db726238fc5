#!/usr/bin/env node
// `npm run build` (and `npm pack`, through prepack): compiles the TypeScript sources to dist/ with declaration
// files, then copies beside the output the files the code reads at run time relative to itself, so the
// compiled package finds them where the sources do. A new run-time file outside core/ and connectors/
// belongs in ASSET_FOLDERS.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
/** Folders copied whole: config schemas and the bundled configs; vendor examples the simulators build answers from. */
const ASSET_FOLDERS = ['config', 'test/fixtures/vendor'];
/** Folders whose non-TypeScript files (dashboard static files, the template's package.json) go beside the output. */
const SOURCE_FOLDERS = ['core', 'connectors'];

rmSync(DIST, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });

// tsc 5.9 leaves `.ts` in an `import('./x.ts')` inside an `export default` expression (every connector's lazy
// simulator import) although rewriteRelativeImportExtensions rewrites it elsewhere: finish the job, then make
// sure no relative `.ts` specifier is left in any emitted module.
const TS_SPECIFIER = /(\bimport\(\s*|\bfrom\s+|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)\.([cm]?)ts\2/g;
const left = [];
for (const file of filesUnder(DIST).filter((f) => /\.[cm]?js$/.test(f))) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(/(\bimport\(\s*)(['"])(\.{1,2}\/[^'"]*?)\.([cm]?)ts\2(\s*\))/g, '$1$2$3.$4js$2$5');
  if (rewritten !== text) writeFileSync(file, rewritten);
  for (const match of rewritten.matchAll(TS_SPECIFIER)) left.push(`${relative(ROOT, file)}: ${match[0]}`);
}
if (left.length > 0) {
  process.stderr.write(`build: emitted modules still import TypeScript files:\n  ${left.join('\n  ')}\n`);
  process.exit(1);
}

for (const folder of ASSET_FOLDERS) cpSync(join(ROOT, folder), join(DIST, folder), { recursive: true });
for (const folder of SOURCE_FOLDERS) {
  for (const file of filesUnder(join(ROOT, folder))) {
    if (file.endsWith('.ts')) continue;
    const target = join(DIST, relative(ROOT, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
  }
}
// Compiled code that starts a hub process (the fault sweep) finds the bin at ../../bin from dist/<folder>/.
mkdirSync(join(DIST, 'bin'), { recursive: true });
writeFileSync(join(DIST, 'bin', 'stockrelay.mjs'), "#!/usr/bin/env node\nimport '../../bin/stockrelay.mjs';\n");

// Every entry package.json names must now exist.
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const entries = Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
const missing = entries.filter((entry) => !existsSync(join(ROOT, entry)));
if (missing.length > 0) {
  process.stderr.write(`build: package.json names files the build did not make: ${missing.join(', ')}\n`);
  process.exit(1);
}
process.stdout.write(`build: ${relative(process.cwd(), DIST) || '.'} ready\n`);

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}
