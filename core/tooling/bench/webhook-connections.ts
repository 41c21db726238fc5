import { Agent, Dispatcher } from 'undici';

/**
 * Connections each simulated channel keeps open to the hub's webhook route at most. A platform delivers its
 * webhooks through a bounded pool; an unbounded one opens a new connection for every delivery waiting on a
 * busy hub (over 500 at once at 500 orders/s), and accepting them costs the hub's thread more than the
 * deliveries themselves. A delivery waiting for a connection still counts: lag runs from the order's time.
 */
export const WEBHOOK_CONNECTIONS_PER_CHANNEL = 4;

/** Routes each webhook delivery (`/webhooks/<channel>`) through its channel's own bounded pool. */
export class PerChannelWebhookDispatcher extends Dispatcher {
  readonly #agents = new Map<string, Agent>();

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const channel = options.path.split('/')[2] ?? '';
    let agent = this.#agents.get(channel);
    if (!agent) this.#agents.set(channel, (agent = new Agent({ connections: WEBHOOK_CONNECTIONS_PER_CHANNEL })));
    return agent.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closed = Promise.all([...this.#agents.values()].map((a) => a.close())).then(() => undefined);
    if (!callback) return closed;
    void closed.then(callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === 'function' ? null : (a ?? null);
    const callback = typeof a === 'function' ? a : b;
    const destroyed = Promise.all([...this.#agents.values()].map((agent) => agent.destroy(err))).then(() => undefined);
    if (!callback) return destroyed;
    void destroyed.then(callback);
  }
}
