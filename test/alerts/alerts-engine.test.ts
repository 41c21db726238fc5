import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertEngine, type AlertProbes } from '../../core/features/alerts/alert-engine.ts';
import type { AlertNotification } from '../../core/features/alerts/alert-types.ts';
import type { AlertSettings } from '../../core/config/config-types.ts';
import { createLogger } from '../../core/logger.ts';
import { HubMetrics } from '../../core/metrics/hub-metrics.ts';

const settings: AlertSettings = { evaluateIntervalMs: 60_000, windowMs: 1_000, syncLagP99Ms: 100, minSuccessRate: 0.99, oversell: true, deadLetterDepth: 2, backlog: 50 };
const logger = createLogger({}, 'silent');
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function engineWith(probes: AlertProbes, extra: Partial<AlertSettings> = {}) {
  const engine = new AlertEngine({ settings: { ...settings, ...extra }, channels: ['web'], snapshot: () => undefined, probes, metrics: new HubMetrics(), logger });
  stops.push(() => engine.stop());
  return engine;
}

describe('the alert engine', () => {
  it('fires consumer backlog above its threshold and clears it below', async () => {
    let backlog = 51;
    const engine = engineWith({ deadLetters: async () => new Map(), backlog: async () => backlog });
    await engine.evaluate();
    expect(engine.list()).toEqual([expect.objectContaining({ id: 'consumer_backlog', kind: 'consumer_backlog', firing: true, value: 51, threshold: 50 })]);
    backlog = 50;
    await engine.evaluate();
    expect(engine.list()).toEqual([expect.objectContaining({ id: 'consumer_backlog', firing: false, value: 50, resolvedAt: expect.any(String) })]);
  });

  it('keeps a dead-letter alert as it was while the stream cannot be read', async () => {
    let depth: number | Error = 2;
    const engine = engineWith({
      deadLetters: async () => {
        if (depth instanceof Error) throw depth;
        return new Map([['web', depth]]);
      },
      backlog: async () => 0,
    });
    await engine.evaluate();
    expect(engine.list().find((a) => a.id === 'dead_letters:web')?.firing).toBe(true);
    depth = new Error('NATS away');
    await engine.evaluate();
    expect(engine.list().find((a) => a.id === 'dead_letters:web')?.firing).toBe(true);
    depth = 0;
    await engine.evaluate();
    expect(engine.list().find((a) => a.id === 'dead_letters:web')?.firing).toBe(false);
  });

  it('does not fire on success rate for a channel with no pushes in the window', async () => {
    const engine = engineWith({ deadLetters: async () => new Map(), backlog: async () => 0 });
    await engine.evaluate();
    expect(engine.list()).toEqual([]);
    engine.attempted('web', false);
    await engine.evaluate();
    expect(engine.list()).toEqual([expect.objectContaining({ id: 'success_rate:web', firing: true, value: 0 })]);
  });

  it('retries a webhook call the receiver failed, and delivers firing before resolved', async () => {
    const received: AlertNotification[] = [];
    let failures = 1;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failures-- > 0) return void res.writeHead(503).end();
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertNotification);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    let backlog = 100;
    const engine = engineWith({ deadLetters: async () => new Map(), backlog: async () => backlog }, { webhookUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` });
    await engine.evaluate();
    backlog = 0;
    await engine.evaluate();
    const deadline = Date.now() + 5_000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received.map((n) => [n.status, n.alert.id])).toEqual([
      ['firing', 'consumer_backlog'],
      ['resolved', 'consumer_backlog'],
    ]);
  });
});
