import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** File → the files it imports, as paths relative to the root, `/`-separated. */
export type ImportGraph = Map<string, string[]>;

/**
 * Relative module specifiers of a source text: static imports and re-exports (type-only ones included:
 * a design cycle is a cycle whether or not it survives compilation) and dynamic `import()` calls.
 */
export function relativeImports(source: string): string[] {
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith('./') || spec.startsWith('../'));
}

/** The import graph of the TypeScript and JavaScript sources under `dirs` (tests and node_modules left out). */
export function importGraph(root: string, dirs: readonly string[]): ImportGraph {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs)$/.test(entry) && !/\.test\./.test(entry)) files.push(path);
    }
  };
  for (const dir of dirs) if (existsSync(join(root, dir))) walk(join(root, dir));
  const known = new Set(files);
  const name = (path: string): string => relative(root, path).split('\\').join('/');
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const targets = new Set<string>();
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const base = resolve(dirname(file), spec);
      const hit = [base, `${base}.ts`, `${base}.js`, join(base, 'index.ts')].find((candidate) => known.has(candidate));
      if (hit) targets.add(name(hit));
    }
    graph.set(name(file), [...targets]);
  }
  return graph;
}

/** The groups of files that import each other, directly or through others (strongly connected, more than one file). */
export function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  // Tarjan's algorithm, iterative so a deep chain of imports cannot overflow the call stack.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; edge: number }> = [{ node: start, edge: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++]!;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const group: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          group.push(member);
        } while (member !== frame.node);
        if (group.length > 1) groups.push(group.sort());
      }
    }
  }
  return groups;
}

/** Every file `from` reaches by following imports (itself excluded). */
export function reachable(graph: ImportGraph, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(graph.get(from) ?? [])];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    todo.push(...(graph.get(file) ?? []));
  }
  seen.delete(from);
  return seen;
}
