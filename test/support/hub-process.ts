import { spawn, type ChildProcess } from 'node:child_process';

const BIN = new URL('../../bin/stockrelay.mjs', import.meta.url).pathname;

/**
 * Starts `stockrelay start --config <file>` as a child process and resolves once it listens, so a test can
 * kill it with SIGKILL at any moment. Rejects with its output if it exits first.
 */
export function startHubProcess(configFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--config', configFile], { env: { ...process.env, STOCKRELAY_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('stockrelay listening on')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}: ${output}`)));
  });
}
