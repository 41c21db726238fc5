import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { natsAnswers, startPrivateNatsServer } from '../../core/tooling/simulation/private-nats-server.ts';

// What `stockrelay demo` runs on a machine with a nats-server binary and no NATS running.
describe('a private nats-server for the demo', () => {
  it('answers NATS once started, and is gone with its store once stopped', async () => {
    const server = await startPrivateNatsServer();
    expect(await natsAnswers([server.url])).toBe(true);
    await server.stop();
    expect(await natsAnswers([server.url], 500)).toBe(false);
    expect(existsSync(server.storeDir)).toBe(false);
  });

  it('fails, saying it exited, for a binary that stops before it answers', async () => {
    const falseBinary = existsSync('/bin/false') ? '/bin/false' : '/usr/bin/false';
    await expect(startPrivateNatsServer({ binary: falseBinary })).rejects.toThrow(/exited \(1\) before it answered/);
  });
});
