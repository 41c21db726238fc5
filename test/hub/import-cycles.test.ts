import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, reachable, relativeImports, type ImportGraph } from '../support/import-graph.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The hub's features: written against the hub context, never against the hub. */
const FEATURE_FOLDERS = ['core/features/read/', 'core/features/alerts/', 'core/features/admin/', 'core/features/dashboard/', 'core/features/mcp/'];
const HUB = 'core/hub.ts';

describe('the import graph of core/ and connectors/', () => {
  const graph = importGraph(ROOT, ['core', 'connectors']);

  it('has no import cycle, type-only imports included', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(importCycles(graph)).toEqual([]);
  });

  it('keeps every feature module from reaching the hub, directly or through other modules', () => {
    const features = [...graph.keys()].filter((file) => FEATURE_FOLDERS.some((folder) => file.startsWith(folder)));
    expect(features.length).toBeGreaterThan(10);
    expect(features.filter((file) => reachable(graph, file).has(HUB))).toEqual([]);
  });
});

describe('the import-cycle check', () => {
  it('sees type-only imports, re-exports and dynamic imports', () => {
    const source = [
      "import type { A } from './a.ts';",
      "import { type B } from '../b.ts';",
      "export { C } from './c.ts';",
      "export * from './d.ts';",
      "const e = await import('./e.ts');",
      "import fs from 'node:fs';",
    ].join('\n');
    expect(relativeImports(source)).toEqual(['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts']);
  });

  it('reports every group of files that import each other, and nothing else', () => {
    const graph: ImportGraph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e2']],
      ['e2', ['e']],
    ]);
    expect(importCycles(graph).sort()).toEqual([['a', 'b', 'c'], ['e', 'e2']]);
  });
});
