import { afterAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../../core/bus/nats-bus.ts';
import { validateConfigObject, EMBEDDED_DATABASE_WARNING } from '../../core/config/validate-config.ts';
import type { Hub } from '../../core/hub.ts';
import { startSandboxSimulator, type SandboxSimulator } from '../../connectors/sandbox/simulator.ts';
import { NATS_URL, uniqueSuffix } from '../support/servers.ts';
import { startHub, waitFor } from '../support/test-hub.ts';

describe('a hub with no database.url', () => {
  let hub: Hub | undefined;
  let sim: SandboxSimulator | undefined;
  const suffix = uniqueSuffix();
  const nats = { servers: [NATS_URL], stream: `SR_IN_${suffix}`, deadLetterStream: `SR_DLQ_${suffix}`, subjectPrefix: `t${suffix}`, consumer: `core_${suffix}` };
  afterAll(async () => {
    await hub?.stop();
    await sim?.close();
    const bus = await NatsBus.connect({ ...nats, duplicateWindowMs: 120_000, replicas: 1, ackWaitMs: 10_000, inboundMaxAgeMs: 0, inboundMaxBytes: -1, deadLetterMaxAgeMs: 0, deadLetterMaxBytes: -1 });
    await bus.deleteTopology();
    await bus.close();
  });

  it('runs the ledger on embedded PGlite, says it is for trials, and applies orders exactly once', async () => {
    sim = await startSandboxSimulator({ latency: { p50: 0, p99: 0 } });
    const checked = validateConfigObject({ nats, http: { port: 0 }, channels: [{ id: 'web', connector: 'sandbox', options: sim.connectorOptions([]) }] });
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    expect(checked.loaded.warnings).toContain(EMBEDDED_DATABASE_WARNING);
    hub = await startHub(checked);
    expect(hub.database.kind).toBe('pglite');
    const order = { id: 'web:order:E1:confirmed', type: 'order.confirmed' as const, channel: 'web', occurredAt: new Date().toISOString(), lines: [{ sku: 'EMB-1', qty: 2 }] };
    await hub.publish({ id: 'emb:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: [{ sku: 'EMB-1', quantity: 5 }] });
    await hub.publish(order);
    await hub.bus.publishRaw(`t${suffix}.in.order.confirmed`, JSON.stringify(order), `${order.id}-resent`);
    await waitFor('the channel to show 3', () => sim!.shown('EMB-1') === 3);
    await waitFor('the resent copy to be consumed', async () => (await hub!.metrics.duplicates.get()).values[0]?.value === 1);
    expect((await hub.ledger.getLevel('EMB-1'))?.available).toBe(3);
  });
});
