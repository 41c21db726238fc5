import { request } from 'undici';
import type { NatsBus } from '../../core/bus/nats-bus.ts';
import type { InventoryEvent } from '../../core/events/event-types.ts';
import { SIGNATURE_HEADER, type SandboxOrderWebhook } from '../../connectors/sandbox/api.ts';
import type { SandboxSimulator } from '../../connectors/sandbox/simulator.ts';
import { hmacSha256 } from '../../connectors/_kit/signatures.ts';

/** A channel of the sweep: its simulator, and the secret its order webhooks are signed with. */
export interface SweepChannel {
  id: string;
  simulator: SandboxSimulator;
  webhookSecret: string;
}

/** What the sweep sent, to be checked against the ledger. */
export interface SentOrder {
  eventId: string;
  lines: Array<{ sku: string; qty: number }>;
  /** The hub answered 200: the channel considers the order delivered. */
  acked: boolean;
  deliveries: number;
}

export interface SentRestock {
  eventId: string;
  sku: string;
  delta: number;
  acked: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Plays the channels and the warehouse: orders arrive as signed webhooks on random channels and are
 * delivered again until the hub answers 200, as every real channel re-delivers; restocks are published
 * to JetStream until the stream acknowledges them. Everything sent is remembered for the checks.
 */
export class Workload {
  readonly orders: SentOrder[] = [];
  readonly restocks: SentRestock[] = [];
  /** Webhook requests sent and not yet answered, for the "webhook in flight" kill point. */
  inFlight = 0;
  refusals: string[] = [];
  #seq = 0;
  #pending = new Set<Promise<void>>();

  constructor(
    private readonly channels: readonly SweepChannel[],
    private readonly skus: readonly string[],
    /** The URLs of the hubs that are up now (one is picked per delivery). */
    private readonly hubUrls: () => string[],
    private readonly bus: () => NatsBus,
    private readonly label: string,
  ) {}

  /** Sends orders at `ratePerS` and a restock every `restockEveryMs` for `durationMs`. Resolves when sending stops. */
  async run(durationMs: number, ratePerS: number, restockEveryMs: number, random: () => number): Promise<void> {
    const started = Date.now();
    let nextRestock = started + restockEveryMs;
    let sent = 0;
    while (Date.now() - started < durationMs) {
      const due = started + (sent * 1000) / ratePerS;
      if (due > Date.now()) await sleep(due - Date.now());
      sent += 1;
      this.#track(this.#order(random));
      if (Date.now() >= nextRestock) {
        nextRestock += restockEveryMs;
        this.#track(this.#restock(random));
      }
    }
  }

  /** Resolves once every order and restock sent so far has been acknowledged (they are retried until then). */
  async drained(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.#pending.size} deliveries still unacknowledged after ${timeoutMs} ms`);
      await Promise.race([...this.#pending, sleep(200)]);
    }
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  async #order(random: () => number): Promise<void> {
    this.#seq += 1;
    const channel = this.channels[Math.floor(random() * this.channels.length)]!;
    const sku = this.skus[Math.floor(random() * this.skus.length)]!;
    const qty = 1 + Math.floor(random() * 2);
    const orderId = `${this.label}-${this.#seq}`;
    const at = new Date().toISOString();
    const payload: SandboxOrderWebhook = { topic: 'order.created', order: { id: orderId, lines: [{ sku, qty }], createdAt: at, updatedAt: at, status: 'open' } };
    const sent: SentOrder = { eventId: `${channel.id}:order:${orderId}:confirmed`, lines: [{ sku, qty }], acked: false, deliveries: 0 };
    this.orders.push(sent);
    // The channel sold it: it shows fewer units until the hub pushes the ledger's number.
    channel.simulator.setShown(sku, Math.max(0, (channel.simulator.shown(sku) ?? 0) - qty));
    const body = JSON.stringify(payload);
    const headers = { 'content-type': 'application/json', [SIGNATURE_HEADER]: `sha256=${hmacSha256(channel.webhookSecret, body, 'hex')}` };
    for (let attempt = 0; ; attempt += 1) {
      const urls = this.hubUrls();
      if (urls.length > 0) {
        const url = urls[attempt % urls.length]!;
        sent.deliveries += 1;
        this.inFlight += 1;
        try {
          const res = await request(`${url}/webhooks/${channel.id}`, { method: 'POST', headers, body, headersTimeout: 10_000, bodyTimeout: 10_000 });
          await res.body.dump();
          if (res.statusCode === 200) {
            sent.acked = true;
            return;
          }
          // A 4xx for a well-formed, signed order is a bug the sweep reports; the channel would give up.
          if (res.statusCode >= 400 && res.statusCode < 500) {
            this.refusals.push(`${sent.eventId}: ${res.statusCode}`);
            return;
          }
        } catch {
          // connection refused or reset: the hub is down; deliver again later, as a channel does
        } finally {
          this.inFlight -= 1;
        }
      }
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
    }
  }

  async #restock(random: () => number): Promise<void> {
    this.#seq += 1;
    const sku = this.skus[Math.floor(random() * this.skus.length)]!;
    const event: InventoryEvent = { id: `warehouse:restock:${this.label}-${this.#seq}`, type: 'stock.adjusted', channel: 'warehouse', occurredAt: new Date().toISOString(), lines: [{ sku, delta: 5 }] };
    const sent: SentRestock = { eventId: event.id, sku, delta: 5, acked: false };
    this.restocks.push(sent);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.bus().publishEvent(event);
        sent.acked = true;
        return;
      } catch {
        await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
      }
    }
  }
}
