import type { ChannelRules } from '../config/config-types.ts';
import type { StockUpdate } from '../sdk.ts';
import type { EffectiveLimits, ForecastNow } from './dispatch-types.ts';
import { shownQuantity } from './dispatch-types.ts';
import { BULK_MAX_RISK, BulkLane } from './bulk-lane.ts';
import { FORECAST_RECHECK_MS, forecastBand, forecastHolds, forecastNow } from './forecast.ts';
import type { LastUnitsView } from './last-units.ts';
import { RevisionBudget } from './revision-budget.ts';
import type { SalesRate } from './sales-rate.ts';
import type { SkuPushState } from './sku-push-state.ts';
import { TokenBucket } from './token-bucket.ts';

/**
 * A SKU waiting this long goes ahead of every non-zero quantity. Without it a saturated channel would
 * serve the scarce SKUs forever and starve the plentiful ones past the sync-lag alarm (p99 > 5 s).
 */
export const OVERDUE_MS = 4_000;
/** Share of the channel's declared rate the dispatcher uses (see the token bucket below). */
export const RATE_HEADROOM = 0.97;
/**
 * On channels with a per-SKU revision budget, a rise in stock waits this long to be coalesced with the
 * next changes: showing fewer units than are available cannot oversell, while every revision spent on
 * a rise is one fewer for the falls that matter.
 */
export const BUDGETED_INCREASE_HOLD_MS = 60_000;

/** One item of a push call, frozen when the batch was built. */
export interface BatchItem {
  state: SkuPushState;
  update: StockUpdate;
  /** What the SKU's daily revision budget has left after this push (channels with one). */
  revision?: { tokens: number; at: number };
}

/** What may go out now, in this order, and when to look again. */
export interface PushPlan {
  /**
   * SKUs the channel already shows as asked (or, with a forecast, close enough to it within the
   * hysteresis): confirmed without a call, with the quantity the channel shows.
   */
  unchanged: Array<{ state: SkuPushState; quantity: number }>;
  /** Read-back calls, one batch each: SKUs whose late-write window closed. */
  readBacks: SkuPushState[][];
  /** Push calls, one batch each, most urgent first. */
  pushes: BatchItem[][];
  /** Bulk jobs (the channel's feed), one batch each: changes that can wait, taken off the per-SKU queue. */
  bulk: BatchItem[][];
  /** Epoch ms at which something held back now may go (a token, a backoff, a window's end); Infinity: nothing. */
  wakeAt: number;
}

/**
 * Sales rate (units/s) every SKU is assumed to have on top of its measured one: a SKU not seen selling
 * may still sell, and with no rates known at all the order falls back to the scarcest first.
 */
export const PRIOR_SALES_PER_SECOND = 0.01;

/**
 * A backlog that had nothing fit for a bulk job is looked at again for one after this long, ms, not on
 * every commit: a saturated channel would otherwise re-sort its whole backlog each time.
 */
const BULK_RESCAN_MS = 1_000;

/** How much the estimate of how long a push holds its SKUs moves towards each new one. */
const HOLD_MS_WEIGHT = 0.2;

interface Candidate {
  state: SkuPushState;
  quantity: number;
  since: number;
  overdue: boolean;
  /** The push lowers what the channel shows (or what it shows is unknown): leaving it waiting can oversell. */
  fall: boolean;
  /** Units expected to sell, per unit left, before this push could land if it waits: higher goes first. */
  risk: number;
}

/**
 * Push order when the channel cannot take everything at once, what prevents oversells first: moves to
 * zero, then SKUs overdue (so none starves past the sync-lag alarm), then falls by risk of selling what
 * is gone, highest first, then rises (showing fewer units than are available cannot oversell), longest
 * waiting first.
 */
function byUrgency(a: Candidate, b: Candidate): number {
  if ((a.quantity === 0) !== (b.quantity === 0)) return a.quantity === 0 ? -1 : 1;
  if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
  if (a.overdue && a.since !== b.since) return a.since - b.since;
  if (a.fall !== b.fall) return a.fall ? -1 : 1;
  if (a.fall && a.risk !== b.risk) return b.risk - a.risk;
  return a.since - b.since;
}

/**
 * The chance of selling what is gone, as a score: the units expected to sell between the change and
 * the moment this push could land (sales rate × (time stale + time to refresh)), against the units
 * left. A SKU selling fast against little stock, or stale for long, scores high; with no sales known it
 * is the scarcest that scores highest.
 */
export function sellOutRisk(salesPerSecond: number, available: number, staleMs: number, refreshMs: number): number {
  return ((salesPerSecond + PRIOR_SALES_PER_SECOND) * (Math.max(0, staleMs) + refreshMs)) / 1_000 / (Math.max(0, available) + 1);
}

export interface PushSchedulerOptions {
  limits: Readonly<EffectiveLimits>;
  rules: Readonly<ChannelRules>;
  /** Whether the connector can read quantities back now: a closed late-write window is then settled by a read. */
  canReadBack: () => boolean;
  now: number;
  /** Units sold per second per SKU (the ledger's recent orders). Absent: no sales known, scarcity decides. */
  sales?: SalesRate;
  /** Whether the connector can take bulk jobs (`pushBulk`): the lane of `limits.bulk` is used only then. */
  canBulk?: boolean;
  /** The channel's id and the hub's last-units holds (see {@link LastUnitsView}); without them no SKU is held. */
  channelId?: string;
  lastUnits?: LastUnitsView;
}

/**
 * Decides which SKUs one channel pushes next and when: the channel's pace (a token bucket a little under
 * its declared rate, paused by throttles), per-SKU revision budgets, backoffs and late-write windows,
 * and the order of urgency when the channel cannot take everything at once. It sends nothing itself:
 * the dispatcher asks for a plan whenever a call may go out and carries it out.
 */
export class PushScheduler {
  readonly #limits: Readonly<EffectiveLimits>;
  readonly #rules: Readonly<ChannelRules>;
  readonly #canReadBack: () => boolean;
  readonly #bucket: TokenBucket;
  readonly #revisions: RevisionBudget | null;
  readonly #sales: SalesRate | null;
  readonly #channelId: string | undefined;
  readonly #lastUnits: LastUnitsView | null;
  /**
   * How long a push holds its SKUs and its call slot, ms: the mark in the store, the call and the
   * confirmation (moves with every push answered). On a busy hub the store's part exceeds the channel's.
   */
  #holdMs = 0;
  #pausedUntil = 0;
  #throttlesInARow = 0;
  readonly #forecasting: boolean;
  /** SKUs last confirmed showing less than the rules allow (a forecast): looked at again as sales fade. */
  readonly #hiding = new Set<SkuPushState>();
  /** Epoch ms of the next look at {@link #hiding}. */
  #recheckAt = 0;
  /**
   * SKUs due to fall at the last plan: the queue a SKU that sells waits behind before it is refreshed,
   * for the forecast's horizon. Rises (stock coming back, forecasts fading) are not counted: they go
   * after every fall, so a queue of them does not delay the next refresh of a SKU that sells.
   */
  #fallsQueued = 0;
  /** Falls among the last plan's candidates, judged with their forecasts (which the count above leaves out). */
  #forecastFalls = 0;
  /** The channel's bulk lane, or null (none declared, turned off, or a connector without `pushBulk`). */
  readonly bulkLane: BulkLane | null;
  /** Epoch ms before which a backlog found with nothing fit for a job is not scanned for one again. */
  #bulkLookAt = 0;

  constructor(options: PushSchedulerOptions) {
    const { limits } = options;
    this.#limits = limits;
    this.#rules = options.rules;
    this.#canReadBack = options.canReadBack;
    // Paced a little under the channel's own bucket: requests reach the channel with jittered delays
    // (new connections, token fetches), and one token of headroom absorbs that instead of a 429.
    this.#bucket = new TokenBucket(limits.perSecond * RATE_HEADROOM, Math.max(1, limits.burst - 1), options.now);
    this.#revisions = limits.dailyRevisionsPerSku !== undefined ? new RevisionBudget(limits.dailyRevisionsPerSku) : null;
    this.#sales = options.sales ?? null;
    this.#channelId = options.channelId;
    this.#lastUnits = options.lastUnits ?? null;
    this.#forecasting = options.rules.forecast?.enabled === true;
    this.bulkLane = limits.bulk && options.canBulk ? new BulkLane(limits.bulk, options.now) : null;
  }

  /** A push was answered and confirmed `holdMs` after it took its SKUs: the refresh-time estimate follows. */
  answered(holdMs: number): void {
    if (!(holdMs >= 0)) return;
    this.#holdMs = this.#holdMs === 0 ? holdMs : this.#holdMs + HOLD_MS_WEIGHT * (holdMs - this.#holdMs);
  }

  /**
   * How long until a push for a SKU that joins the back of `queued` others lands on the channel, ms:
   * the calls needed to work through the queue and then its own, at the channel's pace (its rate, or its
   * calls in flight at the measured hold time when that is slower), plus one push's hold. Its own call
   * counts even with nothing queued: the push after the one going now waits for a call slot too, and a
   * forecast that left it out lost a whole call interval (half a second at 2 calls/s) each time the queue
   * ahead of a hot SKU emptied, and showed units again just before they ran out.
   */
  refreshMs(queued: number): number {
    const { perSecond, maxBatchSize, concurrency } = this.#limits;
    const callsPerSecond = Math.min(perSecond * RATE_HEADROOM, this.#holdMs > 0 ? (concurrency * 1_000) / this.#holdMs : Infinity);
    return this.#holdMs + (Math.ceil((Math.max(0, queued) + 1) / maxBatchSize) * 1_000) / callsPerSecond;
  }

  /**
   * The forecast of a SKU at `now` (undefined with the forecast off). Its horizon runs until the push
   * after the next one can land: one call for the push sent now, then the queue's turn and that call.
   */
  forecastOf(state: Pick<SkuPushState, 'sku' | 'available'>, now: number, queued = this.#fallsQueued): ForecastNow | undefined {
    if (!this.#forecasting) return undefined;
    return this.#forecast(state, this.#sales?.perSecond(state.sku, now) ?? 0, this.#holdMs + this.refreshMs(queued));
  }

  /** Time until a push for a SKU that sells, sent now, could land, ms: the horizon its forecast counts. */
  landingMs(): number {
    return this.#holdMs + this.refreshMs(this.#fallsQueued);
  }

  /**
   * The forecast over `refreshMs`, as a last-units hold makes it (see {@link LastUnitsView}): the holder
   * shows what its rules allow; another channel shows the least its band allows (0 unless
   * `maxHiddenShare` is below 1) as long as its own forecast would hide any unit.
   */
  #forecast(state: Pick<SkuPushState, 'sku' | 'available'>, salesPerSecond: number, refreshMs: number): ForecastNow | undefined {
    const forecast = forecastNow(this.#rules, state.available, salesPerSecond, refreshMs);
    const holder = forecast && this.#lastUnits?.holderOf(state.sku);
    if (!forecast || holder === undefined) return forecast;
    if (holder === this.#channelId) return { ...forecast, quantity: forecast.allowed, lastUnitsOn: holder };
    if (forecast.quantity >= forecast.allowed) return forecast;
    return { ...forecast, quantity: forecastBand(this.#rules, state.available).lowest, lastUnitsOn: holder };
  }

  /** True when another channel alone offers the SKU's last units: this one must show exactly its forecast, no hysteresis. */
  #heldElsewhere(sku: string): boolean {
    const holder = this.#lastUnits?.holderOf(sku);
    return holder !== undefined && holder !== this.#channelId;
  }

  /**
   * SKUs the channel shows a forecast for whose forecast moved past the hysteresis since it was
   * confirmed (sales faded, the queue emptied): the caller makes them due again. Looks at most once per
   * {@link FORECAST_RECHECK_MS}; a SKU behind or in flight is left to its push.
   */
  forecastsMoved(now: number): SkuPushState[] {
    if (!this.#forecasting || this.#hiding.size === 0 || now < this.#recheckAt) return [];
    this.#recheckAt = now + FORECAST_RECHECK_MS;
    const moved: SkuPushState[] = [];
    for (const state of this.#hiding) {
      if (state.inFlight || state.behind || state.parked || state.notListed) continue;
      const shown = state.confirmedQuantity;
      const forecast = this.forecastOf(state, now);
      if (shown === null || !forecast || (shown >= forecast.allowed && forecast.quantity >= forecast.allowed)) {
        this.#hiding.delete(state);
      } else if (!forecastHolds(this.#rules, state.available, shown, forecast.quantity) || (shown > forecast.quantity && this.#heldElsewhere(state.sku))) {
        this.#hiding.delete(state);
        moved.push(state);
      }
    }
    return moved;
  }

  /**
   * Due SKUs whose channel shows more than the rules allow now (or an unknown quantity): the falls every
   * refresh of a selling SKU waits behind. A forecast can only lower a quantity, so this counts the
   * falls the rules alone make and leaves out those only a forecast would add (the last plan counted
   * those, with the forecasts it computed); it is a queue length, not a plan.
   */
  #countFalls(due: ReadonlySet<SkuPushState> | readonly SkuPushState[]): number {
    let falls = 0;
    for (const state of due) {
      const shown = state.confirmedQuantity;
      if (shown === null || state.unknownShownVersion > state.confirmedVersion || shownQuantity(this.#rules, state.available) < shown) falls += 1;
    }
    return falls;
  }

  /** Takes back what a SKU had left of its daily revisions at `at` (stored by an earlier process). */
  restoreRevisions(sku: string, tokens: number, at: number): void {
    this.#revisions?.restore(sku, tokens, at);
  }

  get hasRevisionBudget(): boolean {
    return this.#revisions !== null;
  }

  /** Epoch ms until which the channel is paused by a throttle, or 0 once that moment passed. */
  pausedUntil(now: number): number {
    return this.#pausedUntil > now ? this.#pausedUntil : 0;
  }

  /**
   * The channel said "slow down". Pauses every call until it may go again: for `retryAfterMs` when it
   * said, else the whole exponential ceiling (a jittered wait could be zero and hit the same wall).
   * Returns the wait and the moment the pause ends.
   */
  throttled(retryAfterMs: number | undefined, backoff: { baseMs: number; maxMs: number }, now: number): { waitMs: number; until: number } {
    this.#throttlesInARow += 1;
    const waitMs = retryAfterMs ?? Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(this.#throttlesInARow - 1, 30));
    this.#pausedUntil = Math.max(this.#pausedUntil, now + waitMs);
    this.#bucket.pauseUntil(this.#pausedUntil, now);
    return { waitMs, until: this.#pausedUntil };
  }

  /** The channel confirmed a push: the throttles it answered before no longer grow the next wait. */
  confirmed(): void {
    this.#throttlesInARow = 0;
  }

  /**
   * What may be sent at `now` from the `due` SKUs with `freeCalls` calls free. Takes a token for every
   * call it plans, marks planned SKUs in flight, and spends their revisions: the caller must send them all.
   */
  plan(due: ReadonlySet<SkuPushState> | readonly SkuPushState[], now: number, freeCalls: number): PushPlan {
    if (this.#forecasting) this.#fallsQueued = Math.max(this.#countFalls(due), this.#forecastFalls);
    // SKUs showing a forecast are looked at again on time even when nothing else wakes the channel.
    const recheckAt = this.#forecasting && this.#hiding.size > 0 ? Math.max(this.#recheckAt, now + 1) : Infinity;
    const plan: PushPlan = { unchanged: [], readBacks: [], pushes: [], bulk: [], wakeAt: recheckAt };
    // A bulk job that may go now is worth a scan even when no per-SKU call can (it is rare: jobs are few).
    const bulkReady = now >= this.#bulkLookAt && (this.bulkLane?.canSubmit(now) ?? false);
    if (now < this.#pausedUntil && !bulkReady) return { ...plan, wakeAt: Math.min(recheckAt, this.#pausedUntil) };
    // No call can go out now: a finishing push or the token timer looks again. Returning before the
    // scan keeps a saturated channel from re-sorting its whole backlog on every ledger commit.
    if (freeCalls <= 0 && !bulkReady) return plan;
    const tokenAt = this.#bucket.nextTokenAt(now);
    if (tokenAt > now && !bulkReady) return { ...plan, wakeAt: Math.min(recheckAt, tokenAt) };
    const queuedAhead = Math.max(0, this.#fallsQueued - 1);

    const toVerify: SkuPushState[] = [];
    const candidates: Candidate[] = [];
    for (const state of due) {
      if (state.inFlight) continue;
      if (state.notBefore > now) {
        plan.wakeAt = Math.min(plan.wakeAt, state.notBefore);
        continue;
      }
      const late = state.lateWrites;
      if (late && !late.closed(now) && late.pushedVersion >= state.version) {
        // Already pushed this version while an earlier write may still land: only the window's end tells.
        plan.wakeAt = Math.min(plan.wakeAt, late.until);
        continue;
      }
      if (late && late.closed(now) && this.#canReadBack()) {
        toVerify.push(state);
        continue;
      }
      const quantity = this.forecastOf(state, now, queuedAhead)?.quantity ?? shownQuantity(this.#rules, state.available);
      const heldUntil = this.#revisions ? this.#budgetHold(state, quantity, now) : now;
      if (heldUntil > now) {
        plan.wakeAt = Math.min(plan.wakeAt, heldUntil);
        continue;
      }
      const unchanged = this.#unchanged(state, quantity);
      if (unchanged !== null) {
        state.inFlight = true;
        plan.unchanged.push({ state, quantity: unchanged });
        this.#noteShown(state, unchanged);
      } else {
        const since = state.oldestPendingAt;
        const shown = state.confirmedQuantity;
        const fall = shown === null || state.unknownShownVersion > state.confirmedVersion || quantity < shown;
        candidates.push({ state, quantity, since, overdue: now - since >= OVERDUE_MS, fall, risk: 0 });
      }
    }

    if (this.#forecasting) this.#forecastFalls = candidates.reduce((n, c) => (c.fall ? n + 1 : n), 0);
    const { maxBatchSize } = this.#limits;
    // Read-backs first: each settles a SKU without spending a write (or a revision).
    for (let next = 0; next < toVerify.length && freeCalls > 0; freeCalls -= 1) {
      if (!this.#bucket.tryTake(now)) {
        plan.wakeAt = Math.min(plan.wakeAt, this.#bucket.nextTokenAt(now));
        break;
      }
      const batch = toVerify.slice(next, next + maxBatchSize);
      next += batch.length;
      for (const state of batch) state.inFlight = true;
      plan.readBacks.push(batch);
    }
    if (candidates.length > 0 && (freeCalls > 0 || bulkReady)) {
      const refreshMs = this.refreshMs(candidates.length);
      for (const c of candidates) {
        if (c.fall) c.risk = sellOutRisk(this.#sales?.perSecond(c.state.sku, now) ?? 0, c.state.available, now - c.since, refreshMs);
      }
      candidates.sort(byUrgency);
      let next = 0;
      for (; next < candidates.length && freeCalls > 0; freeCalls -= 1) {
        if (!this.#bucket.tryTake(now)) {
          plan.wakeAt = Math.min(plan.wakeAt, this.#bucket.nextTokenAt(now));
          break;
        }
        const batch = candidates.slice(next, next + maxBatchSize);
        next += batch.length;
        plan.pushes.push(batch.map(({ state, quantity }) => this.#item(state, quantity, now)));
      }
      const lane = this.bulkLane;
      if (lane && next < candidates.length) {
        if (bulkReady) this.#fillBulkJob(lane, candidates, next, now, plan);
        else plan.wakeAt = Math.min(plan.wakeAt, Math.max(this.#bulkLookAt, lane.nextSubmitAt(now)));
      }
    }
    return plan;
  }

  /**
   * Moves to one bulk job the SKUs left waiting (`candidates` from `from` on, most urgent first) that gain
   * by it and can wait for it: those the per-SKU queue ahead of them would keep waiting longer than a job
   * takes, that do not go to zero (the stop of an oversell is never left to a feed), and that are not
   * expected to sell a tenth of what they have left before the job lands (none of their writes can go
   * while it is open). The others keep their places in the per-SKU queue, which shortens by every SKU
   * moved, so the most urgent stay first there.
   */
  #fillBulkJob(lane: BulkLane, candidates: readonly Candidate[], from: number, now: number, plan: PushPlan): void {
    const jobMs = lane.durationMs;
    const items: BatchItem[] = [];
    let aheadPerSku = 0;
    for (let i = from; i < candidates.length && items.length < lane.limits.maxBatchSize; i += 1) {
      const candidate = candidates[i]!;
      const { state } = candidate;
      const salesPerSecond = this.#sales?.perSecond(state.sku, now) ?? 0;
      // With a forecast, what the channel shows must hold until the job lands, not the next per-SKU call.
      const quantity = this.#forecasting ? (this.#forecast(state, salesPerSecond, jobMs)?.quantity ?? candidate.quantity) : candidate.quantity;
      const canWait = quantity > 0 && this.refreshMs(aheadPerSku) > jobMs && sellOutRisk(salesPerSecond, state.available, 0, jobMs) < BULK_MAX_RISK;
      if (!canWait) {
        aheadPerSku += 1;
        continue;
      }
      items.push(this.#item(state, quantity, now));
    }
    if (items.length === 0) {
      this.#bulkLookAt = now + BULK_RESCAN_MS;
      return;
    }
    lane.submitted(now);
    plan.bulk.push(items);
  }

  /** The bulk lane was refused with "slow down": pauses the lane only (see {@link BulkLane.throttled}). */
  bulkThrottled(retryAfterMs: number | undefined, backoff: { baseMs: number; maxMs: number }, now: number): { waitMs: number; until: number } {
    return this.bulkLane!.throttled(retryAfterMs, backoff, now);
  }

  /**
   * Takes a call the pushes leave unused at `now`, for a read-back; returns whether it did. Asked only
   * after {@link plan} placed every push that could go now, and taken from the same bucket, so reads never
   * push the channel past its pace (never a throttle) and never take a call a waiting push could use.
   * When the bucket holds more than one call, one is left for a push arriving next.
   */
  takeSpareCall(now: number): boolean {
    if (now < this.#pausedUntil) return false;
    const keep = this.#bucket.burst >= 2 ? 1 : 0;
    if (this.#bucket.available(now) < 1 + keep) return false;
    return this.#bucket.tryTake(now);
  }

  /** Epoch ms at which {@link takeSpareCall} may next succeed. */
  spareCallAt(now: number): number {
    const until = Math.max(now, this.#pausedUntil);
    const keep = this.#bucket.burst >= 2 ? 1 : 0;
    const missing = 1 + keep - this.#bucket.available(until);
    return missing <= 0 ? until : until + Math.ceil((missing * 1000) / this.#bucket.perSecond);
  }

  /**
   * Until when a revision-budgeted channel holds this SKU (`now`: push). A move to zero is never held:
   * it is what stops an oversell. A rise is held a while to coalesce; other changes wait for the budget.
   */
  #budgetHold(state: SkuPushState, quantity: number, now: number): number {
    if (quantity === 0) return now;
    const confirmed = state.confirmedQuantity;
    if (confirmed !== null && confirmed > 0 && quantity > confirmed) {
      const until = state.oldestPendingAt + BUDGETED_INCREASE_HOLD_MS;
      if (until > now) return until;
    }
    return this.#revisions!.availableAt(state.sku, now);
  }

  /**
   * What the channel shows for a SKU when that needs no push for `quantity` (exactly it, or with a
   * forecast a number within its hysteresis), else null. Only what the channel is known to show counts.
   */
  #unchanged(state: SkuPushState, quantity: number): number | null {
    const shown = state.confirmedQuantity;
    if (shown === null || !state.canSkip(shown)) return null;
    if (shown > quantity && this.#heldElsewhere(state.sku)) return null;
    return forecastHolds(this.#rules, state.available, shown, quantity) ? shown : null;
  }

  /** Keeps a SKU shown below what the rules allow in sight, so its forecast is re-pushed as sales fade. */
  #noteShown(state: SkuPushState, quantity: number): void {
    if (this.#forecasting && quantity < shownQuantity(this.#rules, state.available)) this.#hiding.add(state);
  }

  /** The update for a SKU, from its newest known ledger state (never an older one). */
  #item(state: SkuPushState, quantity: number, now: number): BatchItem {
    state.inFlight = true;
    this.#noteShown(state, quantity);
    const revision = this.#revisions?.take(state.sku, now);
    const update: StockUpdate = { sku: state.sku, quantity, version: state.version };
    if (state.confirmedQuantity !== null) update.previousQuantity = state.confirmedQuantity;
    return revision ? { state, update, revision } : { state, update };
  }
}
