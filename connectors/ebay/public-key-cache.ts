import type { EbayPublicKey } from './api.ts';

/**
 * Notification public keys by key id, cached for `ttlMs` as eBay asks (fetching on every notification
 * would burn the Notification API's daily quota). Concurrent misses for one kid share a single fetch.
 */
export class PublicKeyCache {
  private readonly keys = new Map<string, { key: EbayPublicKey; expires: number }>();
  private readonly pending = new Map<string, Promise<EbayPublicKey | undefined>>();

  constructor(
    /** Fetches a key; resolves `undefined` when eBay does not know the kid. */
    private readonly fetchKey: (kid: string, signal: AbortSignal) => Promise<EbayPublicKey | undefined>,
    private readonly ttlMs: number,
  ) {}

  async get(kid: string, signal: AbortSignal): Promise<EbayPublicKey | undefined> {
    const cached = this.keys.get(kid);
    if (cached && cached.expires > Date.now()) return cached.key;
    let inflight = this.pending.get(kid);
    if (!inflight) {
      inflight = this.fetchKey(kid, signal).finally(() => this.pending.delete(kid));
      this.pending.set(kid, inflight);
    }
    const key = await inflight;
    if (key) this.keys.set(kid, { key, expires: Date.now() + this.ttlMs });
    return key;
  }
}
