import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port nothing listens on right now, on the loopback interface. */
export function freeLoopbackPort(): Promise<number> {
  return listenOnce(0);
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

/**
 * The first port the kernel hands out to outgoing connections. Linux says it in procfs; elsewhere the
 * IANA dynamic range (49152 up, macOS and Windows) starts higher than Linux's default 32768, so that
 * default is a safe lower guess.
 */
export function ephemeralPortStart(rangeFile = '/proc/sys/net/ipv4/ip_local_port_range'): number {
  try {
    const low = Number(readFileSync(rangeFile, 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024) return low;
  } catch {
    // Not Linux, or procfs is hidden: fall through to the default.
  }
  return 32768;
}

/**
 * A free loopback port below the ephemeral range, for a server that is stopped and started again on the
 * same port. A port from `freeLoopbackPort` lies inside that range, so while its server is down (or not yet
 * started) any outgoing connection on the machine can be given it as its local port, and the server then
 * cannot bind it; below the range only an explicit bind can take it.
 */
export async function freeStableLoopbackPort(): Promise<number> {
  const high = ephemeralPortStart();
  const low = Math.max(1025, high - 12_000);
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    try {
      return await listenOnce(port);
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`no free loopback port between ${low} and ${high - 1} after 50 tries: ${String(lastError)}`);
}
