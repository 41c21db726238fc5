import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, stopProcess } from './stop-process.ts';
import { freeLoopbackPort, loopbackPortOpen } from '../../core/tooling/simulation/loopback-port.ts';
import { findNatsServer } from '../../core/tooling/simulation/private-nats-server.ts';

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await loopbackPortOpen(port))) {
    if (Date.now() > deadline) throw new Error(`nats-server did not open port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One nats-server process of ours, on loopback ports of its own, with its JetStream store in a temp folder. */
export class NatsNode {
  #child: ChildProcess | undefined;
  constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: readonly string[],
    readonly storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return isRunning(this.#child);
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn(findNatsServer() ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, '-n', this.name, ...this.args], { stdio: 'ignore' });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve());
    });
    await waitForPort(this.port, 15_000);
  }

  /** kill -9: the node vanishes with whatever it had not written. */
  async kill(): Promise<void> {
    await stopProcess(this.#child, 'SIGKILL');
  }

  /** A clean stop (SIGTERM), as an operator's restart does. */
  async stop(): Promise<void> {
    await stopProcess(this.#child, 'SIGTERM', 10_000);
  }
}

export interface PrivateNats {
  nodes: NatsNode[];
  servers: string[];
  close(): Promise<void>;
}

/**
 * Starts `size` nats-server processes with JetStream on free loopback ports: one alone, or a cluster whose
 * streams can have up to `size` replicas. They are the sweep's own, so stopping and killing them never
 * touches the machine's NATS.
 */
export async function startPrivateNats(size: 1 | 3): Promise<PrivateNats> {
  const root = await mkdtemp(join(tmpdir(), 'stockrelay-sweep-nats-'));
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freeLoopbackPort()));
  const clusterPorts = size > 1 ? await Promise.all(Array.from({ length: size }, () => freeLoopbackPort())) : [];
  const nodes = clientPorts.map((port, i) => {
    const args: string[] = [];
    if (size > 1) {
      const routes = clusterPorts.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p}`).join(',');
      args.push('--cluster_name', 'sweep', '--cluster', `nats://127.0.0.1:${clusterPorts[i]}`, '--routes', routes);
    }
    return new NatsNode(`sweep-${i + 1}`, port, args, join(root, `n${i + 1}`));
  });
  await Promise.all(nodes.map((node) => node.start()));
  return {
    nodes,
    servers: nodes.map((node) => node.url),
    async close() {
      await Promise.all(nodes.map((node) => node.kill()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
