import { request } from 'undici';
import { describeError } from '../../errors.ts';
import type { Logger } from '../../sdk.ts';
import type { AlertNotification } from './alert-types.ts';

export interface AlertWebhookOptions {
  url: string;
  logger: Logger;
  /** Timeout of one POST, ms. Default 5000. */
  timeoutMs?: number;
  /** Attempts per notification (network errors, 429 and 5xx are retried). Default 3. */
  attempts?: number;
  /** First retry delay, doubled each time, ms. Default 250. */
  retryBaseMs?: number;
  /** Notifications waiting at most; the oldest is dropped (and logged) beyond it. Default 1000. */
  maxQueued?: number;
}

/**
 * Sends alert notifications to one URL, one at a time and in order (a `resolved` never overtakes its
 * `firing`), from a queue of its own: {@link send} returns at once, so a slow or dead receiver never
 * delays alert evaluation.
 */
export class AlertWebhook {
  readonly #options: Required<Omit<AlertWebhookOptions, 'logger'>> & { logger: Logger };
  readonly #queue: AlertNotification[] = [];
  readonly #abort = new AbortController();
  #draining: Promise<void> | null = null;
  #closed = false;

  constructor(options: AlertWebhookOptions) {
    this.#options = { timeoutMs: 5_000, attempts: 3, retryBaseMs: 250, maxQueued: 1_000, ...options };
  }

  /** Queues a notification; returns immediately. Ignored after {@link close}. */
  send(notification: AlertNotification): void {
    if (this.#closed) return;
    this.#queue.push(notification);
    if (this.#queue.length > this.#options.maxQueued) {
      const dropped = this.#queue.shift()!;
      this.#options.logger.warn('alert webhook queue full; dropping the oldest notification', { alert: dropped.alert.id, status: dropped.status });
    }
    this.#draining ??= this.#drain().finally(() => (this.#draining = null));
  }

  /** Gives queued notifications up to `graceMs` to go out, then aborts what is left. */
  async close(graceMs = 2_000): Promise<void> {
    this.#closed = true;
    if (this.#draining) {
      const timer = setTimeout(() => this.#abort.abort(new Error('alert webhook closed')), graceMs);
      await this.#draining;
      clearTimeout(timer);
    }
    this.#abort.abort(new Error('alert webhook closed'));
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
      const notification = this.#queue.shift()!;
      await this.#deliver(notification);
    }
  }

  async #deliver(notification: AlertNotification): Promise<void> {
    const { url, timeoutMs, attempts, retryBaseMs, logger } = this.#options;
    const body = JSON.stringify(notification);
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      let problem: string;
      let retryable = true;
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'stockrelay-alerts' },
          body,
          signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(timeoutMs)]),
        });
        await res.body.dump();
        if (res.statusCode < 300) return;
        problem = `HTTP ${res.statusCode}`;
        retryable = res.statusCode === 429 || res.statusCode >= 500;
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        problem = describeError(err);
      }
      if (!retryable || attempt === attempts) {
        logger.warn('alert webhook delivery failed', { alert: notification.alert.id, status: notification.status, attempts: attempt, error: problem });
        return;
      }
      await sleep(retryBaseMs * 2 ** (attempt - 1), this.#abort.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
