import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NatsNode, startPrivateNats, type PrivateNats } from '../../bench/fault-sweep/private-nats.ts';
import { startTcpProxy } from '../../bench/fault-sweep/tcp-proxy.ts';
import { ephemeralPortStart, freeStableLoopbackPort } from '../../core/tooling/simulation/loopback-port.ts';
import { natsAnswers } from '../../core/tooling/simulation/private-nats-server.ts';

// The sweep kills its NATS nodes and its database proxy and brings them back on the same ports. Those
// ports must be ones no outgoing connection can be handed meanwhile, and a node that cannot come back
// must say why at once rather than after a timeout.
describe('the sweep\'s own servers', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('reads the start of the ephemeral range from the kernel\'s file, and falls back to 32768 without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stockrelay-ports-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'range'), '40000\t60999\n');
    expect(ephemeralPortStart(join(dir, 'range'))).toBe(40000);
    expect(ephemeralPortStart(join(dir, 'missing'))).toBe(32768);
  });

  it('picks stable ports below the ephemeral range, free to bind', async () => {
    const port = await freeStableLoopbackPort();
    expect(port).toBeLessThan(ephemeralPortStart());
    expect(port).toBeGreaterThan(1024);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    await new Promise((resolve) => server.close(resolve));
  });

  it('starts a node that answers NATS on such a port, and again on the same port after kill -9', async () => {
    const nats: PrivateNats = await startPrivateNats(1);
    cleanups.push(() => nats.close());
    const [node] = nats.nodes;
    expect(node!.port).toBeLessThan(ephemeralPortStart());
    expect(await natsAnswers(nats.servers)).toBe(true);
    await node!.kill();
    expect(await natsAnswers(nats.servers, 500)).toBe(false);
    await node!.start();
    expect(await natsAnswers(nats.servers)).toBe(true);
  });

  it('fails a node whose port is held by something else with what nats-server printed, not as a NATS server', async () => {
    const port = await freeStableLoopbackPort();
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));
    const store = await mkdtemp(join(tmpdir(), 'stockrelay-node-'));
    cleanups.push(() => rm(store, { recursive: true, force: true }));
    const node = new NatsNode('squatted', port, [], store);
    cleanups.push(() => node.kill());
    await expect(node.start()).rejects.toThrow(/exited .*address already in use/i);
  });

  it('brings a cut database proxy back on its port', async () => {
    const upstream = createServer((socket) => socket.end('hello'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise((resolve) => upstream.close(resolve)));
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: (upstream.address() as { port: number }).port });
    cleanups.push(() => proxy.close());
    const port = proxy.port;
    expect(port).toBeLessThan(ephemeralPortStart());
    await proxy.cut();
    await proxy.restore();
    expect(proxy.port).toBe(port);
    const greeting = await new Promise<string>((resolve, reject) => {
      let text = '';
      connect(port, '127.0.0.1').setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text)).on('error', reject);
    });
    expect(greeting).toBe('hello');
  });
});
