import { Worker } from 'node:worker_threads';

/**
 * Starts `moduleUrl` (a bench module that runs its own part when it finds its key in `workerData`) in a
 * worker thread. Node does not hand tsx's loader to worker threads: run from the TypeScript sources, the
 * worker registers it before importing the module; run from built JavaScript, it imports the module as is.
 */
export function startBenchWorker(moduleUrl: string, workerData: Record<string, unknown>): Worker {
  const self = JSON.stringify(moduleUrl);
  const entry = moduleUrl.endsWith('.ts') ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${self}); })` : `import(${self})`;
  return new Worker(entry, { eval: true, workerData });
}
