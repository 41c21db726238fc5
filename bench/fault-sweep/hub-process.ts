import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRunning, stopProcess } from './stop-process.ts';

const BIN = fileURLToPath(new URL('../../bin/stockrelay.mjs', import.meta.url));

/**
 * A hub running as its own process through the real CLI (`stockrelay start`), so it can be killed with
 * SIGKILL at any moment, as a machine losing power would. Its stderr (JSON log lines) goes to `logFile`.
 */
export class HubProcess {
  #child: ChildProcess | undefined;
  #log: WriteStream;
  url = '';
  starts = 0;

  constructor(
    readonly name: string,
    private readonly configFile: string,
    logFile: string,
  ) {
    this.#log = createWriteStream(logFile, { flags: 'a' });
  }

  get running(): boolean {
    return isRunning(this.#child);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the hub and resolves with its URL once it listens; rejects if it exits first or takes too long. */
  start(timeoutMs = 60_000): Promise<string> {
    this.url = '';
    const child = spawn(process.execPath, [BIN, 'start', '--config', this.configFile, '--port', '0'], {
      env: { ...process.env, STOCKRELAY_LOG: process.env.STOCKRELAY_LOG ?? 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    this.starts += 1;
    return new Promise((resolve, reject) => {
      let seen = '';
      let listening = false;
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "listening" line within ${timeoutMs} ms`)), timeoutMs);
      child.stderr!.on('data', (chunk: Buffer) => {
        this.#log.write(chunk);
        if (listening) return;
        seen += chunk.toString();
        const match = /stockrelay listening on (\S+)/.exec(seen);
        if (match) {
          listening = true;
          if (this.#child === child) this.url = match[1]!;
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!listening) reject(new Error(`${this.name} exited (${code ?? signal}) before listening: ${seen.slice(-2000)}`));
      });
    });
  }

  /** Spawns the hub without waiting for it: for kills during start-up. */
  startInBackground(): void {
    this.url = '';
    this.start().catch(() => undefined);
  }

  /** SIGKILL, and resolves once the process is gone. */
  async kill(): Promise<void> {
    await stopProcess(this.#child, 'SIGKILL');
  }

  /** SIGTERM (a graceful stop), SIGKILL after `graceMs`. */
  async terminate(graceMs = 20_000): Promise<void> {
    await stopProcess(this.#child, 'SIGTERM', graceMs);
  }

  async close(): Promise<void> {
    await this.kill();
    await new Promise((resolve) => this.#log.end(resolve));
  }
}
