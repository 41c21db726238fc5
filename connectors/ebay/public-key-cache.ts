import { RetryableError } from '../../core/sdk.ts';
import type { EbayPublicKey } from './api.ts';

const MAX_ENTRIES = 256;
const MINUTE_MS = 60_000;

export interface PublicKeyCacheOptions {
  /** How long a fetched key is trusted (eBay suggests about an hour). */
  ttlMs: number;
  /** How long "eBay does not know this kid" is remembered, so a forged kid costs one call, not one per request. */
  unknownTtlMs?: number;
  /**
   * Key fetches allowed per rolling minute, whatever the kids: a spray of invented kids can never spend more of
   * the Notification API's quota (or the app token's) than this. Default 10: eBay rotates keys rarely.
   */
  maxFetchesPerMinute?: number;
  now?: () => number;
}

/**
 * Notification public keys by key id. Concurrent misses for one kid share a single fetch; known and unknown
 * kids are both remembered; and all fetches together are capped per minute. Past the cap a new kid gets a
 * RetryableError (503): a genuine notification is then re-delivered by eBay later, a forged one costs nothing.
 */
export class PublicKeyCache {
  private readonly keys = new Map<string, { key: EbayPublicKey | undefined; expires: number }>();
  private readonly pending = new Map<string, Promise<EbayPublicKey | undefined>>();
  private readonly fetchTimes: number[] = [];
  private readonly unknownTtlMs: number;
  private readonly maxPerMinute: number;
  private readonly now: () => number;

  constructor(
    /** Fetches a key; resolves `undefined` when eBay does not know the kid. */
    private readonly fetchKey: (kid: string, signal: AbortSignal) => Promise<EbayPublicKey | undefined>,
    private readonly options: PublicKeyCacheOptions,
  ) {
    this.unknownTtlMs = options.unknownTtlMs ?? 10 * MINUTE_MS;
    this.maxPerMinute = options.maxFetchesPerMinute ?? 10;
    this.now = options.now ?? Date.now;
  }

  /** Outbound key fetches started in the last minute. */
  fetchesInLastMinute(): number {
    const cutoff = this.now() - MINUTE_MS;
    while (this.fetchTimes.length > 0 && this.fetchTimes[0]! <= cutoff) this.fetchTimes.shift();
    return this.fetchTimes.length;
  }

  /** The key for `kid` when one is cached and fresh; never fetches. */
  peek(kid: string): EbayPublicKey | undefined {
    const cached = this.keys.get(kid);
    return cached && cached.expires > this.now() ? cached.key : undefined;
  }

  async get(kid: string, signal: AbortSignal): Promise<EbayPublicKey | undefined> {
    const cached = this.keys.get(kid);
    if (cached && cached.expires > this.now()) return cached.key;
    let inflight = this.pending.get(kid);
    if (!inflight) {
      if (this.fetchesInLastMinute() >= this.maxPerMinute) {
        throw new RetryableError(`eBay public key lookups are capped at ${this.maxPerMinute} per minute; kid not checked now`);
      }
      this.fetchTimes.push(this.now());
      inflight = this.fetchKey(kid, signal).finally(() => this.pending.delete(kid));
      this.pending.set(kid, inflight);
    }
    const key = await inflight;
    // Bounded: a spray of invented kids evicts the oldest entries instead of growing without end.
    if (!this.keys.has(kid) && this.keys.size >= MAX_ENTRIES) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(kid, { key, expires: this.now() + (key ? this.options.ttlMs : this.unknownTtlMs) });
    return key;
  }
}
