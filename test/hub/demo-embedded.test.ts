import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort, natsServerInstallCommand } from '../../core/tooling/simulation/private-nats-server.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'stockrelay.mjs');

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `stockrelay demo` as a user would; `whenPrinted` lets the caller act once a line appears. */
function runDemo(args: string[], env: NodeJS.ProcessEnv = process.env, whenPrinted?: { text: string; then: (pid: number) => void }): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'demo', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let acted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (whenPrinted && !acted && stdout.includes(whenPrinted.text)) {
        acted = true;
        whenPrinted.then(child.pid!);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What the demo said it started: the private nats-server's pid and folder, and the ledger's folder. */
function started(stdout: string): { natsPid: number; natsDir: string; ledgerDir: string } {
  const nats = /private nats-server \(pid (\d+)\) on nats:\/\/127\.0\.0\.1:\d+, store in (\S+) /.exec(stdout);
  const ledger = /embedded PGlite in (\S+) /.exec(stdout);
  expect(nats, stdout).not.toBeNull();
  expect(ledger, stdout).not.toBeNull();
  return { natsPid: Number(nats![1]), natsDir: nats![2]!, ledgerDir: ledger![1]! };
}

describe('the demo needs nothing running: PGlite ledger and a private nats-server', () => {
  let dir: string;
  let configFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stockrelay-demo-test-'));
    // The shipped demo config, pointed at a NATS address where nothing listens, and any free HTTP port.
    const shipped = JSON.parse(await readFile(join(ROOT, 'config', 'demo.json'), 'utf8')) as { nats: { servers: string[] }; http: { port: number }; $schema?: string };
    shipped.nats.servers = [`nats://127.0.0.1:${await freeLoopbackPort()}`];
    shipped.http.port = 0;
    delete shipped.$schema;
    configFile = join(dir, 'demo.json');
    await writeFile(configFile, JSON.stringify(shipped));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the shipped demo config names no database, so the ledger is embedded', async () => {
    const shipped = JSON.parse(await readFile(join(ROOT, 'config', 'demo.json'), 'utf8')) as { database?: { url?: unknown } };
    expect(shipped.database?.url).toBeUndefined();
  });

  it('runs a few seconds, prints its summary with every channel equal to the ledger, and leaves no server or folder behind', async () => {
    const run = await runDemo(['--config', configFile, '--duration', '3', '--rate', '4', '--skus', '10']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/no NATS answers at nats:\/\/127\.0\.0\.1:\d+: starting a private nats-server/);
    const summary = /summary: .*convergence (\d+)\/(\d+) channel×SKU pairs equal the ledger/.exec(run.stdout);
    expect(summary, run.stdout).not.toBeNull();
    expect(summary![1]).toBe(summary![2]);
    const { natsPid, natsDir, ledgerDir } = started(run.stdout);
    expect(alive(natsPid)).toBe(false);
    expect(existsSync(natsDir)).toBe(false);
    expect(existsSync(ledgerDir)).toBe(false);
  }, 240_000);

  it('on SIGTERM it stops the load, prints the summary and stops its nats-server', async () => {
    const run = await runDemo(['--config', configFile, '--rate', '4', '--skus', '10'], process.env, {
      text: 'orders placed',
      then: (pid) => process.kill(pid, 'SIGTERM'),
    });
    expect(run.stdout).toContain('summary: ');
    const { natsPid, natsDir, ledgerDir } = started(run.stdout);
    expect(alive(natsPid)).toBe(false);
    expect(existsSync(natsDir)).toBe(false);
    expect(existsSync(ledgerDir)).toBe(false);
  }, 240_000);

  it('without a nats-server binary it prints the one command that installs it, and starts nothing', async () => {
    const run = await runDemo(['--config', configFile, '--duration', '1'], { ...process.env, NATS_SERVER_BIN: join(dir, 'no-such-nats-server') });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no nats-server binary');
    expect(run.stderr).toContain(natsServerInstallCommand());
    const ledger = /embedded PGlite in (\S+) /.exec(run.stdout);
    if (ledger) expect(existsSync(ledger[1]!)).toBe(false);
  }, 120_000);
});
