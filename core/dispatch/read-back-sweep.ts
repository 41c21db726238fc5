import type { ChannelRules } from '../config/config-types.ts';
import { describeError } from '../internal.ts';
import type { DriftFinding, ReadBackStore, SkuSyncLevel } from '../ledger/ledger-types.ts';
import type { Logger } from '../sdk.ts';
import type { Clock } from './clock.ts';
import { shownQuantity, type DispatchObserver } from './dispatch-types.ts';
import { showsAsIntended } from './forecast.ts';
import type { PushBacklog } from './push-backlog.ts';
import type { SkuPushState } from './sku-push-state.ts';

/** SKUs listed from the store per query when a sweep starts. */
const LIST_PAGE = 1_000;

export interface ReadBackSweepOptions {
  channelId: string;
  store: ReadBackStore;
  rules: Readonly<ChannelRules>;
  backlog: PushBacklog;
  maxBatchSize: number;
  /** A sweep over every SKU starts at most this often. */
  intervalMs: number;
  /** What the channel shows for these SKUs (the connector's `fetchQuantities` under the call deadline); null: stopped. */
  read(skus: readonly string[]): Promise<Map<string, number> | null>;
  /** Drift was found and marked due: the dispatcher pushes it. */
  drifted(): void;
  observer: DispatchObserver;
  clock: Clock;
  logger: Logger;
}

/**
 * Reads every SKU of one channel back, once per interval, and compares what the channel shows with what
 * its rules give for the ledger (with a forecast: any quantity between the most it may hide and what the
 * rules allow). A SKU whose push is pending, in flight or unverified is skipped (the push
 * settles it); any other difference is drift: recorded, reported, and the SKU made due so a push heals it.
 * It decides what to read; the dispatcher decides when a call is spare for it.
 */
export class ReadBackSweep {
  readonly #o: ReadBackSweepOptions;
  #queue: SkuSyncLevel[] = [];
  #loading: Promise<void> | null = null;
  #nextSweepAt = 0;
  #sweepDrift = { skus: 0, units: 0 };
  #sweeping = false;
  /** Batches taken and not yet handled. */
  #reading = 0;
  /** SKUs pushed because of drift, until their healing push is confirmed: ledger version found at. */
  readonly #healing = new Map<string, number>();

  constructor(options: ReadBackSweepOptions) {
    this.#o = options;
  }

  /**
   * Whether a read is wanted at `now`. Starts listing the next sweep's SKUs when one is due (returns
   * false meanwhile; `ready` is called once they are listed).
   */
  wants(now: number, ready: () => void): boolean {
    if (this.#queue.length > 0) return true;
    if (this.#sweeping && this.#reading === 0) this.#finishSweep();
    if (this.#loading || now < this.#nextSweepAt) return false;
    this.#nextSweepAt = now + this.#o.intervalMs;
    this.#loading = this.#list()
      .catch((err: unknown) => this.#o.logger.warn('reconcile: listing SKUs to read back failed; trying at the next interval', { error: describeError(err) }))
      .finally(() => {
        this.#loading = null;
        ready();
      });
    return false;
  }

  /** Epoch ms of the next sweep's start (when nothing is queued). */
  get nextSweepAt(): number {
    return this.#queue.length > 0 ? 0 : this.#nextSweepAt;
  }

  /** Takes the next SKUs to read (at most a batch); the caller reads them with {@link readBatch}. */
  take(): SkuSyncLevel[] {
    const batch: SkuSyncLevel[] = [];
    while (batch.length < this.#o.maxBatchSize && this.#queue.length > 0) {
      const level = this.#queue.shift()!;
      if (this.#settledByPush(level)) continue;
      batch.push(level);
    }
    if (batch.length > 0) this.#reading += 1;
    return batch;
  }

  /** Gives back a batch taken but not read (no call was free after all). */
  putBack(batch: readonly SkuSyncLevel[]): void {
    if (batch.length === 0) return;
    this.#reading -= 1;
    this.#queue.unshift(...batch);
  }

  /** Reads `batch` back and handles what it shows. Never rejects. */
  async readBatch(batch: readonly SkuSyncLevel[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.#readBatch(batch);
    } finally {
      this.#reading -= 1;
    }
  }

  async #readBatch(batch: readonly SkuSyncLevel[]): Promise<void> {
    const o = this.#o;
    const before = new Map(batch.map((level) => [level.sku, o.backlog.get(level.sku)?.version ?? 0]));
    let shown: Map<string, number> | null;
    try {
      shown = await o.read(batch.map((level) => level.sku));
    } catch (err) {
      o.logger.warn('reconcile: reading quantities back failed; these SKUs are read at the next sweep', { error: describeError(err), skus: batch.length });
      return;
    }
    if (!(shown instanceof Map)) return;
    const readAt = new Date(o.clock.now());
    const reads: Array<{ sku: string; shown: number }> = [];
    const findings: DriftFinding[] = [];
    for (const level of batch) {
      const quantity = shown.get(level.sku);
      if (typeof quantity !== 'number' || !Number.isFinite(quantity)) continue; // not listed there: not drift
      reads.push({ sku: level.sku, shown: quantity });
      // A change or push that came meanwhile decides what the channel must show; this read may predate it.
      const state = o.backlog.get(level.sku);
      if ((state?.version ?? 0) !== before.get(level.sku) || this.#settledByPush(level)) continue;
      // A forecast quantity (within the band the rules and forecast allow) is what the channel was sent.
      if (showsAsIntended(o.rules, level.available, quantity)) continue;
      const expected = shownQuantity(o.rules, level.available);
      if (!o.backlog.drifted(level, quantity, readAt.getTime())) continue;
      findings.push({ sku: level.sku, shown: quantity, expected, version: level.version, readAt });
      this.#healing.set(level.sku, level.version);
    }
    if (findings.length > 0) {
      for (const f of findings) {
        this.#sweepDrift.skus += 1;
        this.#sweepDrift.units += Math.abs(f.shown - f.expected);
      }
      o.logger.warn('reconcile: the channel shows other quantities than the ledger gives; pushing them again', {
        drifted: findings.length,
        skus: findings.slice(0, 10).map((f) => `${f.sku}: shows ${f.shown}, expected ${f.expected}`),
      });
      o.observer.driftFound?.(o.channelId, findings);
      o.drifted();
    }
    try {
      await o.store.recordReads(o.channelId, reads, readAt);
      await o.store.recordDrift(o.channelId, findings);
    } catch (err) {
      o.logger.warn('reconcile: recording what was read back failed', { error: describeError(err) });
    }
  }

  /** Records the healing pushes confirmed since the last call. Never rejects. */
  async settleHealed(): Promise<void> {
    if (this.#healing.size === 0) return;
    const healed: Array<{ sku: string; quantity: number; at: Date }> = [];
    const at = new Date(this.#o.clock.now());
    for (const [sku, version] of this.#healing) {
      const state = this.#o.backlog.get(sku);
      if (!state) {
        this.#healing.delete(sku);
        continue;
      }
      if (state.confirmedVersion < version || state.confirmedQuantity === null || state.inFlight) continue;
      healed.push({ sku, quantity: state.confirmedQuantity, at });
      this.#healing.delete(sku);
    }
    if (healed.length === 0) return;
    try {
      await this.#o.store.recordHealed(this.#o.channelId, healed);
    } catch (err) {
      this.#o.logger.warn('reconcile: recording healed drift failed', { error: describeError(err) });
    }
  }

  /** True when a push is pending, in flight or unverified for the SKU, or the store says it is behind. */
  #settledByPush(level: SkuSyncLevel): boolean {
    if (level.pushedVersion < level.version) return true;
    const state: SkuPushState | undefined = this.#o.backlog.get(level.sku);
    if (!state) return false;
    return state.inFlight || state.behind || state.lateWrites !== null || state.notListed !== null || state.version > level.version;
  }

  async #list(): Promise<void> {
    const levels: SkuSyncLevel[] = [];
    for (let after = ''; ; ) {
      const page = await this.#o.store.listLevels(this.#o.channelId, after, LIST_PAGE);
      levels.push(...page);
      if (page.length < LIST_PAGE) break;
      after = page[page.length - 1]!.sku;
    }
    this.#queue = levels;
    this.#sweeping = true;
    this.#sweepDrift = { skus: 0, units: 0 };
  }

  #finishSweep(): void {
    this.#sweeping = false;
    this.#o.observer.driftSwept?.(this.#o.channelId, { ...this.#sweepDrift });
  }
}
