import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../core/hub.ts';
import { fixturePlugin, setupCustomHub, type CustomHubSetup } from '../support/custom-hub.ts';
import { startHub } from '../support/test-hub.ts';

const CHANNEL = 'scripted';
const now = (): string => new Date().toISOString();
const order = (id: string, extra: Record<string, unknown> = {}) => ({ id: `${CHANNEL}:order:${id}:confirmed`, type: 'order.confirmed', channel: CHANNEL, occurredAt: now(), orderId: id, lines: [{ sku: 'ING-1', qty: 1 }], ...extra });

describe('webhook ingress', () => {
  let setup: CustomHubSetup;
  let hub: Hub;

  beforeAll(async () => {
    setup = await setupCustomHub({
      channels: [{ id: CHANNEL, connector: fixturePlugin('scripted-webhook-connector.ts') }],
      http: { webhookTimeoutMs: 500, requestTimeoutMs: 1000 },
    });
    hub = await startHub(setup);
  });
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
  });

  const stored = async (): Promise<number> => (await hub.bus.jsm.streams.info(hub.loaded.config.nats.stream)).state.messages;
  const post = (body: unknown) => fetch(`${hub.url}/webhooks/${CHANNEL}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function expectRefused(events: unknown[], reason: RegExp): Promise<void> {
    const before = await stored();
    const res = await post({ events });
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { code: string; message: string };
    expect(answer.code).toBe('SR_WEBHOOK_PAYLOAD');
    expect(answer.message).toMatch(reason);
    expect(await stored()).toBe(before);
  }

  it('publishes the events of a sound request and answers 200', async () => {
    const before = await stored();
    const res = await post({ events: [order('ok-1')] });
    expect(res.status).toBe(200);
    expect(await stored()).toBe(before + 1);
  });

  it('refuses with 400 an event of another channel', async () => {
    await expectRefused([order('x-1', { channel: 'other-shop', id: 'other-shop:order:x-1:confirmed' })], /names channel "other-shop"/);
  });

  it("refuses with 400 an event whose id is not prefixed with the channel's id", async () => {
    await expectRefused([order('x-2', { id: 'other-shop:order:9:confirmed' })], /must start with "scripted:"/);
  });

  it('refuses with 400 stock events from a webhook', async () => {
    await expectRefused([{ id: `${CHANNEL}:set:1`, type: 'stock.set', channel: CHANNEL, occurredAt: now(), lines: [{ sku: 'ING-1', quantity: 9999 }] }], /may not carry stock\.set/);
  });

  it('refuses with 400 an event that fails the event schema', async () => {
    await expectRefused([order('x-3', { lines: [{ sku: 'ING-1', qty: 'two' }] })], /invalid order\.confirmed event/);
    await expectRefused([order('x-4', { occurredAt: 'yesterday' })], /occurredAt/);
  });

  it('publishes nothing of a request when one of its events is refused', async () => {
    await expectRefused([order('x-5'), order('x-6', { type: 'stock.adjusted' })], /event 1/);
  });

  it('refuses with 400 a result that is no event list', async () => {
    const before = await stored();
    const res = await post({ events: null });
    expect(res.status).toBe(400);
    expect(await stored()).toBe(before);
  });

  it('answers 400 when the connector says the payload is malformed', async () => {
    const res = await post({ payloadError: true });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('SR_WEBHOOK_PAYLOAD');
  });

  it('answers 503 within the webhook deadline when the connector hangs', async () => {
    const started = Date.now();
    const res = await post({ hang: true });
    expect(res.status).toBe(503);
    // 500 ms deadline; the bound only proves the request is not held indefinitely on a loaded machine.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('cuts off a sender whose body never finishes arriving', async () => {
    const { port } = new URL(hub.url);
    const socket = connectTcp(Number(port), '127.0.0.1');
    const closed = new Promise<string>((resolve) => {
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', () => resolve(answer));
    });
    socket.write(`POST /webhooks/${CHANNEL} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"events":`);
    const timer = setTimeout(() => socket.destroy(), 30_000);
    const answer = await closed;
    clearTimeout(timer);
    // The hub answered 408 and closed the connection, well before our own 30 s give-up.
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});
