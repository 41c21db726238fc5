import { TokenBucket } from './token-bucket.ts';

const DAY_MS = 86_400_000;

/**
 * The calls one channel's read-back may make: `share` of its rate (a bucket of its own, one call deep,
 * so reads never come in bursts), and at most `daily` calls per UTC day on channels whose API counts
 * calls per day. Pushes never draw on it; reads also need a call the pushes leave unused.
 */
export class ReadBudget {
  readonly #bucket: TokenBucket | null;
  readonly #daily: number | undefined;
  #day = -1;
  #usedToday = 0;

  constructor(perSecond: number, share: number, daily: number | undefined, now: number) {
    this.#bucket = share > 0 ? new TokenBucket(perSecond * share, 1, now) : null;
    this.#daily = daily;
  }

  /** False when reads are off (share 0). */
  get enabled(): boolean {
    return this.#bucket !== null;
  }

  /** Epoch ms at which {@link tryTake} may next succeed (Infinity: reads off). */
  nextAt(now: number): number {
    if (!this.#bucket) return Infinity;
    this.#rollDay(now);
    const at = this.#bucket.nextTokenAt(now);
    if (this.#daily !== undefined && this.#usedToday >= this.#daily) return Math.max(at, (this.#day + 1) * DAY_MS);
    return at;
  }

  /** Whether a read may go now by this budget alone (nothing is taken). */
  canTake(now: number): boolean {
    return this.nextAt(now) <= now;
  }

  /** Spends one read call; only after {@link canTake} said yes. */
  take(now: number): void {
    this.#rollDay(now);
    this.#bucket?.tryTake(now);
    this.#usedToday += 1;
  }

  #rollDay(now: number): void {
    const day = Math.floor(now / DAY_MS);
    if (day === this.#day) return;
    this.#day = day;
    this.#usedToday = 0;
  }
}
