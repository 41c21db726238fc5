import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookSignatureError, type ConnectorInstance, type InventoryEvent, type WebhookRequest } from '../../core/sdk.ts';

/** What a receiver saw: every request as delivered, the events the connector made of them, each answer's status. */
export interface Receiver {
  requests: WebhookRequest[];
  events: InventoryEvent[];
  statuses: number[];
  close(): Promise<void>;
}

/**
 * A tiny ingress for connector tests: hands each delivery to the connector's `handleWebhook`, as the hub's
 * `/webhooks/<channel>` route does (401 on a signature error), and points the simulator's webhooks at it.
 */
export async function startWebhookReceiver(sim: { setWebhookTarget?(url: string): void }, connector: ConnectorInstance, signal: AbortSignal): Promise<Receiver> {
  const requests: WebhookRequest[] = [];
  const events: InventoryEvent[] = [];
  const statuses: number[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const webhook: WebhookRequest = {
      rawBody: Buffer.concat(chunks),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])),
      path: '',
      query: Object.fromEntries(url.searchParams),
    };
    requests.push(webhook);
    try {
      const outcome = await connector.handleWebhook!(webhook, signal);
      events.push(...outcome.events);
      statuses.push(200);
      res.writeHead(200).end();
    } catch (err) {
      const status = err instanceof WebhookSignatureError ? 401 : 500;
      statuses.push(status);
      res.writeHead(status).end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sim.setWebhookTarget!(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`);
  return { requests, events, statuses, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
