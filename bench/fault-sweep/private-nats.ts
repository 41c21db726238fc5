import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, stopProcess } from './stop-process.ts';
import { freeStableLoopbackPort } from '../../core/tooling/simulation/loopback-port.ts';
import { findNatsServer, untilNatsAnswers } from '../../core/tooling/simulation/private-nats-server.ts';

/** What a node said last on stderr, kept short: enough to tell a taken port from a bad flag. */
const STDERR_TAIL = 2000;
const START_TIMEOUT_MS = 30_000;

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

  /** Resolves once the node accepts connections; rejects, with what it printed, if it exits first. */
  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn(findNatsServer() ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, '-n', this.name, ...this.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve());
    });
    await untilNatsAnswers(child, this.url, START_TIMEOUT_MS, () => stderr);
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
  // A port found free can still be bound by someone else before the node binds it; fresh ports and a fresh
  // store cover that, since nothing has been written yet.
  for (let attempt = 1; ; attempt++) {
    const root = await mkdtemp(join(tmpdir(), 'stockrelay-sweep-nats-'));
    const nodes = await planNodes(size, root);
    try {
      await Promise.all(nodes.map((node) => node.start()));
    } catch (err) {
      await Promise.all(nodes.map((node) => node.kill()));
      await rm(root, { recursive: true, force: true });
      if (attempt >= 3) throw err;
      continue;
    }
    return {
      nodes,
      servers: nodes.map((node) => node.url),
      async close() {
        await Promise.all(nodes.map((node) => node.kill()));
        await rm(root, { recursive: true, force: true });
      },
    };
  }
}

/**
 * Ports below the ephemeral range: the sweep kills and restarts nodes on their own ports, and a port in
 * that range could meanwhile be given to one of the many outgoing connections on the machine.
 */
async function distinctStablePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeStableLoopbackPort());
  return [...ports];
}

async function planNodes(size: 1 | 3, root: string): Promise<NatsNode[]> {
  const ports = await distinctStablePorts(size > 1 ? size * 2 : size);
  const clientPorts = ports.slice(0, size);
  const clusterPorts = ports.slice(size);
  return clientPorts.map((port, i) => {
    const args: string[] = [];
    if (size > 1) {
      const routes = clusterPorts.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p}`).join(',');
      args.push('--cluster_name', 'sweep', '--cluster', `nats://127.0.0.1:${clusterPorts[i]}`, '--routes', routes);
    }
    return new NatsNode(`sweep-${i + 1}`, port, args, join(root, `n${i + 1}`));
  });
}
