import type { EbayPublicKey } from './api.ts';

const MAX_ENTRIES = 256;

/**
 * Notification public keys by key id, cached for `ttlMs` as eBay asks (fetching on every notification
 * would burn the Notification API's daily quota). Concurrent misses for one kid share a single fetch, and a kid
 * eBay does not know is remembered for `unknownTtlMs` so forged notifications cannot spend the quota either.
 */
export class PublicKeyCache {
  private readonly keys = new Map<string, { key: EbayPublicKey | undefined; expires: number }>();
  private readonly pending = new Map<string, Promise<EbayPublicKey | undefined>>();

  constructor(
    /** Fetches a key; resolves `undefined` when eBay does not know the kid. */
    private readonly fetchKey: (kid: string, signal: AbortSignal) => Promise<EbayPublicKey | undefined>,
    private readonly ttlMs: number,
    private readonly unknownTtlMs = 60_000,
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
    // Bounded: a spray of invented kids evicts the oldest entries instead of growing without end.
    if (this.keys.size >= MAX_ENTRIES) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(kid, { key, expires: Date.now() + (key ? this.ttlMs : this.unknownTtlMs) });
    return key;
  }
}
