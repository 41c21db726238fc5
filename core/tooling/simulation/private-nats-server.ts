import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { freeLoopbackPort } from './loopback-port.ts';

/** A nats-server process of our own, with JetStream, on a free loopback port and a throw-away store. */
export interface PrivateNatsServer {
  /** `nats://127.0.0.1:<port>`. */
  url: string;
  pid: number;
  /** The JetStream store folder; removed by `stop`. */
  storeDir: string;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Raised when no nats-server binary can be found; the message holds the one command that installs it. */
export class NatsServerMissingError extends Error {
  override readonly name = 'NatsServerMissingError';
}

export { freeLoopbackPort } from './loopback-port.ts';

/** Debian and Ubuntu install the server outside a normal user's PATH. */
const DEBIAN_PATH = '/usr/sbin/nats-server';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The nats-server binary to run: `NATS_SERVER_BIN` when set, else the first on PATH, else the Debian
 * package's path. Undefined when there is none.
 */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NATS_SERVER_BIN) return executable(env.NATS_SERVER_BIN) ? env.NATS_SERVER_BIN : undefined;
  const names = process.platform === 'win32' ? ['nats-server.exe', 'nats-server'] : ['nats-server'];
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (executable(join(dir, name))) return join(dir, name);
  }
  return process.platform === 'linux' && executable(DEBIAN_PATH) ? DEBIAN_PATH : undefined;
}

/** The one command that installs nats-server on this platform. */
export function natsServerInstallCommand(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'darwin') return 'brew install nats-server';
  if (platform === 'linux' && (env.PATH ?? '').split(delimiter).some((dir) => executable(join(dir, 'apt-get')))) return 'sudo apt-get install -y nats-server';
  // Anywhere else a Go toolchain builds the official server from its module.
  return 'go install github.com/nats-io/nats-server/v2@latest';
}

/**
 * Whether a NATS server answers at any of `servers` within `timeoutMs` (a real NATS handshake, not just an
 * open port, so something else listening there does not count).
 */
export async function natsAnswers(servers: readonly string[], timeoutMs = 2000): Promise<boolean> {
  try {
    const nc = await connect({ servers: [...servers], timeout: timeoutMs, reconnect: false, name: 'stockrelay-probe' });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** The end of what a server printed, for an error: a fatal line comes last, after the banner. */
function lastLines(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.length > 0 ? `: ${lines.slice(-2).join(' | ')}` : '';
}

/**
 * Resolves once the nats-server `child` answers a NATS handshake at `url` (not just an open port: whatever
 * else holds the port does not pass for it). Rejects when it exits first or `timeoutMs` passes, with the
 * end of `printed()` (its stderr, where the caller keeps it) in the message.
 */
export async function untilNatsAnswers(child: ChildProcess, url: string, timeoutMs: number, printed: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await natsAnswers([url], 1000))) {
    if (!running(child)) throw new Error(`nats-server exited (${child.exitCode ?? child.signalCode}) before it answered at ${url}${lastLines(printed())}`);
    if (Date.now() > deadline) throw new Error(`nats-server did not answer at ${url} within ${timeoutMs} ms${lastLines(printed())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts `nats-server -js` on a free loopback port with its store in a new temporary folder.
 *
 * The server runs in a process group of its own, so a Ctrl-C in the terminal reaches only our process,
 * which then stops the server after it has finished with it (the hub drains its consumer first). It is
 * also killed when our process exits any other way short of SIGKILL, and its folder removed.
 */
export async function startPrivateNatsServer(options: { binary?: string; startTimeoutMs?: number } = {}): Promise<PrivateNatsServer> {
  const binary = options.binary ?? findNatsServer();
  if (!binary) {
    throw new NatsServerMissingError(`no nats-server binary on PATH (or in NATS_SERVER_BIN); install it with:\n  ${natsServerInstallCommand()}`);
  }
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  // A port found free can be taken before the server binds it; one more try with another port covers that.
  for (let attempt = 1; ; attempt++) {
    const storeDir = await mkdtemp(join(tmpdir(), 'stockrelay-nats-'));
    const port = await freeLoopbackPort();
    const child = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, '-n', `stockrelay-demo-${port}`], {
      stdio: 'ignore',
      detached: true,
    });
    const killAtExit = (): void => {
      if (running(child)) child.kill('SIGKILL');
      rmSync(storeDir, { recursive: true, force: true });
    };
    process.on('exit', killAtExit);
    const stop = async (): Promise<void> => {
      process.off('exit', killAtExit);
      if (running(child)) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(storeDir, { recursive: true, force: true });
    };
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('spawn', () => resolve());
      });
      await untilNatsAnswers(child, `nats://127.0.0.1:${port}`, timeoutMs);
    } catch (err) {
      await stop();
      if (attempt >= 2 || (err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
      continue;
    }
    return { url: `nats://127.0.0.1:${port}`, pid: child.pid!, storeDir, stop };
  }
}
