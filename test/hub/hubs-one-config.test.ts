import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { setupTestHub, type TestHubSetup } from '../support/test-hub.ts';
import { freeLoopbackPort } from '../../core/tooling/simulation/loopback-port.ts';

const BIN = fileURLToPath(new URL('../../bin/stockrelay.mjs', import.meta.url));

interface Started {
  child: ChildProcess;
  /** Resolves with the URL the hub listens on, or rejects with its stderr when it exits first. */
  listening: Promise<string>;
  exited: Promise<{ code: number | null; stderr: string }>;
}

function startProcess(configFile: string, extraArgs: string[] = [], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [BIN, 'start', '--config', configFile, ...extraArgs], { env: { ...process.env, STOCKRELAY_LOG: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /stockrelay listening on (\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`hub exited (${code}): ${stderr}`)));
  });
  listening.catch(() => undefined);
  return { child, listening, exited };
}

describe('several hubs on one config file', () => {
  let setup: TestHubSetup | undefined;
  let dir: string | undefined;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.on('exit', resolve)) : undefined)));
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('start side by side with a port each (--port, STOCKRELAY_HTTP_PORT), and a clash names the fix', async () => {
    setup = await setupTestHub({ channels: [{ id: 'shared' }] });
    dir = await mkdtemp(join(tmpdir(), 'sr-hubs-'));
    const file = join(dir, 'stockrelay.json');
    const configPort = await freeLoopbackPort();
    await writeFile(file, JSON.stringify({ ...setup.config, http: { host: '127.0.0.1', port: configPort } }));

    const first = startProcess(file);
    children.push(first.child);
    const firstUrl = await first.listening;
    expect(firstUrl).toBe(`http://127.0.0.1:${configPort}`);

    // A second process on the same config and port: refused, saying how to give it its own.
    const clash = startProcess(file);
    children.push(clash.child);
    const refused = await clash.exited;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`port ${configPort} is in use.*--port <n> or STOCKRELAY_HTTP_PORT`));

    const viaFlag = startProcess(file, ['--port', String(await freeLoopbackPort())]);
    const viaEnv = startProcess(file, [], { STOCKRELAY_HTTP_PORT: String(await freeLoopbackPort()) });
    children.push(viaFlag.child, viaEnv.child);
    const urls = [firstUrl, await viaFlag.listening, await viaEnv.listening];
    expect(new Set(urls).size).toBe(3);
    for (const url of urls) expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 240_000);
});
