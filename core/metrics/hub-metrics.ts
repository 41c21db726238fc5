import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChannelRules } from '../config/config-types.ts';
import type { BulkJobEnd, CatchUpPoll, ConfirmedShown, DispatchObserver, PushDeadLetter } from '../dispatch/dispatch-types.ts';
import type { DriftFinding, LedgerChange } from '../ledger/ledger-types.ts';
import { LagWindow } from './lag-window.ts';
import { ShelfTime, type ShelfTotals } from './shelf-time.ts';

/** Sync-lag buckets in ms: fine below a second (the target), coarse up to the 5 s alarm and beyond. */
const LAG_BUCKETS = [5, 10, 25, 50, 100, 150, 250, 400, 600, 800, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000, 60000];

/**
 * The hub's Prometheus metrics, on a registry of its own so several hubs can live in one process.
 * Names follow the article the alarms come from: `sync_lag_ms`, `oversell_detected_total`,
 * `propagation_success_rate`.
 */
export class HubMetrics implements DispatchObserver {
  readonly registry = new Registry();
  readonly syncLag = new Histogram({ name: 'sync_lag_ms', help: 'Event occurredAt to channel-confirmed quantity, ms', labelNames: ['channel'], buckets: LAG_BUCKETS, registers: [this.registry] });
  readonly channelCall = new Histogram({ name: 'channel_call_ms', help: 'Duration of one push call to a channel, ms', labelNames: ['channel'], buckets: LAG_BUCKETS, registers: [this.registry] });
  readonly oversells = new Counter({ name: 'oversell_detected_total', help: 'Order lines that asked for more than the ledger had, by source channel', labelNames: ['channel'], registers: [this.registry] });
  readonly oversoldUnits = new Counter({ name: 'oversold_units_total', help: 'Units sold beyond the ledger, by source channel', labelNames: ['channel'], registers: [this.registry] });
  readonly successRate = new Gauge({ name: 'propagation_success_rate', help: 'Channel push items that succeeded / attempted since start', labelNames: ['channel'], registers: [this.registry] });
  readonly pushAttempts = new Counter({ name: 'push_items_attempted_total', help: 'Channel push items attempted', labelNames: ['channel'], registers: [this.registry] });
  readonly pushSucceeded = new Counter({ name: 'push_items_succeeded_total', help: 'Channel push items confirmed', labelNames: ['channel'], registers: [this.registry] });
  readonly throttles = new Counter({ name: 'channel_throttled_total', help: 'Throttle answers (429 / THROTTLED) per channel', labelNames: ['channel'], registers: [this.registry] });
  readonly eventsProcessed = new Counter({ name: 'events_processed_total', help: 'Inbound events applied to the ledger', labelNames: ['type'], registers: [this.registry] });
  readonly duplicates = new Counter({ name: 'events_duplicate_total', help: 'Inbound events already applied (idempotency record hit)', registers: [this.registry] });
  readonly unknownSkuLines = new Counter({ name: 'unknown_sku_lines_total', help: 'Order lines for SKUs the ledger does not know', labelNames: ['channel'], registers: [this.registry] });
  readonly deadLetters = new Counter({ name: 'dead_letters_total', help: 'Dead letters written', labelNames: ['kind', 'channel'], registers: [this.registry] });
  readonly ledgerBatch = new Histogram({ name: 'ledger_batch_ms', help: 'One ledger transaction (a group of events), ms', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers: [this.registry] });
  readonly ledgerBatchEvents = new Histogram({ name: 'ledger_batch_events', help: 'Events per ledger transaction', buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500], registers: [this.registry] });
  readonly eventToCommit = new Histogram({ name: 'event_commit_lag_ms', help: 'Event occurredAt to ledger commit, ms', buckets: LAG_BUCKETS, registers: [this.registry] });
  readonly pending = new Gauge({ name: 'channel_pending_skus', help: 'SKUs waiting for a push per channel', labelNames: ['channel'], registers: [this.registry] });
  readonly consumerBacklog = new Gauge({ name: 'consumer_backlog', help: 'Inbound events not yet applied: undelivered in the stream plus received and uncommitted (sampled at each alert evaluation)', registers: [this.registry] });
  readonly deadLetterDepth = new Gauge({ name: 'dead_letter_depth', help: 'Dead letters waiting in the dead-letter stream, by channel ("" for events; sampled at each alert evaluation)', labelNames: ['channel'], registers: [this.registry] });
  readonly inboundExpired = new Counter({ name: 'inbound_events_expired_total', help: 'Inbound events that left the stream (nats.inboundMaxAgeMs) before any hub applied them, found at start', registers: [this.registry] });
  readonly ledgerUnavailable = new Gauge({ name: 'ledger_unavailable', help: '1 while inbound events wait for an unavailable ledger database (they are held, never dead-lettered), 0 otherwise', registers: [this.registry] });
  readonly driftSkus = new Gauge({ name: 'channel_drift_skus', help: 'SKUs the last read-back sweep found showing other than the ledger gives, per channel (each is pushed again)', labelNames: ['channel'], registers: [this.registry] });
  readonly driftUnits = new Gauge({ name: 'channel_drift_units', help: 'Units of difference the last read-back sweep found between what a channel showed and what the ledger gives', labelNames: ['channel'], registers: [this.registry] });
  // Phantom and hidden stock as the hub knows them: what it last confirmed a channel shows against what the
  // channel's rules give for the ledger (core/metrics/shelf-time.ts). Brought up to the scrape's moment.
  readonly phantomSeconds = new Counter({
    name: 'channel_phantom_seconds_total',
    help: 'SKU-seconds the channel showed (as last confirmed by a push) more than its rules give for the ledger\'s available stock: stock a shopper could buy that was gone. Summed over SKUs; counted for channels this hub pushes, from each SKU\'s first confirmation since start',
    labelNames: ['channel'],
    registers: [this.registry],
    collect: () => this.#syncShelf(),
  });
  readonly phantomUnitSeconds = new Counter({
    name: 'channel_phantom_unit_seconds_total',
    help: 'Units the channel showed (as last confirmed) above what its rules give for the ledger, times seconds',
    labelNames: ['channel'],
    registers: [this.registry],
    collect: () => this.#syncShelf(),
  });
  readonly hiddenUnitSeconds = new Counter({
    name: 'channel_hidden_unit_seconds_total',
    help: 'Units the channel\'s rules give for the ledger (without forecast) that the channel did not show (as last confirmed), times seconds: the cost of forecasts, reserves and restocks not yet pushed',
    labelNames: ['channel'],
    registers: [this.registry],
    collect: () => this.#syncShelf(),
  });
  readonly phantomEpisodes = new Histogram({
    name: 'channel_phantom_episode_ms',
    help: 'Duration of each phantom episode (a SKU shown, as last confirmed, above what the rules give for the ledger, until a push or the ledger ends it), ms',
    labelNames: ['channel'],
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly catchUpPolls = new Counter({ name: 'order_catchup_polls_total', help: 'Pages of orders read for missed-order catch-up, by outcome (ok, failed)', labelNames: ['channel', 'outcome'], registers: [this.registry] });
  readonly catchUpEvents = new Counter({ name: 'order_catchup_events_total', help: 'Order events missed-order catch-up published (those already applied count once in the ledger)', labelNames: ['channel'], registers: [this.registry] });
  readonly catchUpLastSuccess = new Gauge({ name: 'order_catchup_last_success_seconds', help: 'Unix time of the last order catch-up page read, published and its cursor stored, per channel', labelNames: ['channel'], registers: [this.registry] });
  readonly bulkJobs = new Counter({ name: 'channel_bulk_jobs_total', help: 'Bulk jobs (feeds) sent to the channel, by outcome (answered, failed)', labelNames: ['channel', 'outcome'], registers: [this.registry] });
  readonly bulkItems = new Counter({ name: 'channel_bulk_items_total', help: 'SKU updates carried by bulk jobs the channel answered', labelNames: ['channel'], registers: [this.registry] });
  readonly bulkJobSeconds = new Histogram({ name: 'channel_bulk_job_seconds', help: 'Time from a bulk job’s submission to its per-item results', labelNames: ['channel'], buckets: [1, 5, 15, 60, 300, 900, 1800, 3600], registers: [this.registry] });
  readonly alertsFiring = new Gauge({ name: 'alerts_firing', help: 'Alerts the hub evaluates itself (GET /v1/alerts): 1 while firing, 0 once cleared', labelNames: ['kind', 'channel'], registers: [this.registry] });

  private readonly attempts = new Map<string, { ok: number; all: number }>();
  /** Drift the running read-back sweep found so far, and the last finished sweep's totals, per channel. */
  private readonly sweepDrift = new Map<string, { skus: number; units: number; lastSkus: number; lastUnits: number }>();
  /** Recent lag samples per channel (last minute), for live percentiles. */
  readonly recentLag = new Map<string, LagWindow>();
  readonly #shelf: ShelfTime;
  /** What the shelf counters last showed per channel, so a scrape adds only what accrued since. */
  readonly #shelfReported = new Map<string, ShelfTotals>();
  /** Observers that see every dispatch outcome too (the load-test runner), in addition to the metrics. */
  private readonly taps = new Set<Partial<DispatchObserver>>();

  /** `rules`: each channel's rules, for phantom and hidden stock (a channel without is not counted). */
  constructor(options: { processMetrics?: boolean; rules?: (channelId: string) => ChannelRules | undefined } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    const rules = options.rules ?? (() => undefined);
    this.#shelf = new ShelfTime(rules, { onEpisode: (channel, ms) => this.phantomEpisodes.observe({ channel }, ms) });
  }

  /** The hub learned these ledger changes (its own commits and other hubs'): phantom and hidden stock follow the ledger. */
  ledgerChanged(changes: readonly LedgerChange[]): void {
    this.#shelf.ledger(changes);
  }

  /** This hub no longer pushes the channel: what it last confirmed there stops counting. */
  channelReleased(channelId: string): void {
    this.#shelf.release(channelId);
  }

  /** Phantom and hidden stock of one channel so far (what /metrics shows). */
  shelfTotals(channelId: string): ShelfTotals {
    return this.#shelf.totals(channelId);
  }

  #syncShelf(): void {
    for (const channel of this.#shelf.channels()) {
      const now = this.#shelf.totals(channel);
      const before = this.#shelfReported.get(channel) ?? { phantomSeconds: 0, phantomUnitSeconds: 0, hiddenUnitSeconds: 0 };
      if (now.phantomSeconds > before.phantomSeconds) this.phantomSeconds.inc({ channel }, now.phantomSeconds - before.phantomSeconds);
      if (now.phantomUnitSeconds > before.phantomUnitSeconds) this.phantomUnitSeconds.inc({ channel }, now.phantomUnitSeconds - before.phantomUnitSeconds);
      if (now.hiddenUnitSeconds > before.hiddenUnitSeconds) this.hiddenUnitSeconds.inc({ channel }, now.hiddenUnitSeconds - before.hiddenUnitSeconds);
      this.#shelfReported.set(channel, now);
    }
  }

  /**
   * Adds an observer called after the metrics are updated for every dispatch outcome; returns the
   * removal. A tap that throws is reported by the dispatcher like any observer failure.
   */
  tap(observer: Partial<DispatchObserver>): () => void {
    this.taps.add(observer);
    return () => this.taps.delete(observer);
  }

  /** Declares a channel so its series exist (at zero) before the first push. */
  addChannel(channelId: string): void {
    this.attempts.set(channelId, { ok: 0, all: 0 });
    this.recentLag.set(channelId, new LagWindow());
    this.successRate.set({ channel: channelId }, 1);
    this.oversells.inc({ channel: channelId }, 0);
    this.throttles.inc({ channel: channelId }, 0);
    this.pushAttempts.inc({ channel: channelId }, 0);
    this.pushSucceeded.inc({ channel: channelId }, 0);
    this.driftSkus.set({ channel: channelId }, 0);
    this.driftUnits.set({ channel: channelId }, 0);
    this.phantomSeconds.inc({ channel: channelId }, 0);
    this.phantomUnitSeconds.inc({ channel: channelId }, 0);
    this.hiddenUnitSeconds.inc({ channel: channelId }, 0);
  }

  confirmed(channelId: string, sku: string, lagMs: readonly number[], callMs: number, shown?: ConfirmedShown): void {
    if (shown) this.#shelf.shown(channelId, sku, shown.quantity, shown);
    const window = this.recentLag.get(channelId);
    const labels = { channel: channelId };
    const at = Date.now();
    for (const lag of lagMs) {
      this.syncLag.observe(labels, lag);
      window?.add(lag, at);
    }
    if (callMs > 0) this.channelCall.observe(labels, callMs);
    for (const tap of this.taps) tap.confirmed?.(channelId, sku, lagMs, callMs, shown);
  }

  attempted(channelId: string, ok: boolean): void {
    const tally = this.attempts.get(channelId) ?? { ok: 0, all: 0 };
    tally.all += 1;
    if (ok) tally.ok += 1;
    this.attempts.set(channelId, tally);
    this.pushAttempts.inc({ channel: channelId });
    if (ok) this.pushSucceeded.inc({ channel: channelId });
    this.successRate.set({ channel: channelId }, tally.ok / tally.all);
    for (const tap of this.taps) tap.attempted?.(channelId, ok);
  }

  throttled(channelId: string, retryAfterMs = 0): void {
    this.throttles.inc({ channel: channelId });
    for (const tap of this.taps) tap.throttled?.(channelId, retryAfterMs);
  }

  deadLettered(channelId: string, letter: PushDeadLetter): void {
    this.deadLetters.inc({ kind: 'push', channel: channelId });
    for (const tap of this.taps) tap.deadLettered?.(channelId, letter);
  }

  /**
   * Drift found during a sweep shows at once (a large catalogue's sweep takes a while): the gauges never
   * show less than the sweep found so far. The sweep's end sets them to its totals.
   */
  driftFound(channelId: string, findings: readonly DriftFinding[]): void {
    const running = this.sweepDrift.get(channelId) ?? { skus: 0, units: 0, lastSkus: 0, lastUnits: 0 };
    running.skus += findings.length;
    running.units += findings.reduce((sum, f) => sum + Math.abs(f.shown - f.expected), 0);
    this.sweepDrift.set(channelId, running);
    this.driftSkus.set({ channel: channelId }, Math.max(running.lastSkus, running.skus));
    this.driftUnits.set({ channel: channelId }, Math.max(running.lastUnits, running.units));
    for (const tap of this.taps) tap.driftFound?.(channelId, findings);
  }

  driftSwept(channelId: string, drift: { skus: number; units: number }): void {
    this.sweepDrift.set(channelId, { skus: 0, units: 0, lastSkus: drift.skus, lastUnits: drift.units });
    this.driftSkus.set({ channel: channelId }, drift.skus);
    this.driftUnits.set({ channel: channelId }, drift.units);
    for (const tap of this.taps) tap.driftSwept?.(channelId, drift);
  }

  catchUpPolled(channelId: string, poll: CatchUpPoll): void {
    this.catchUpPolls.inc({ channel: channelId, outcome: poll.ok ? 'ok' : 'failed' });
    if (poll.ok) {
      this.catchUpEvents.inc({ channel: channelId }, poll.events);
      this.catchUpLastSuccess.set({ channel: channelId }, Math.floor(poll.at / 1000));
    }
    for (const tap of this.taps) tap.catchUpPolled?.(channelId, poll);
  }

  bulkJobEnded(channelId: string, job: BulkJobEnd): void {
    this.bulkJobs.inc({ channel: channelId, outcome: job.outcome });
    if (job.outcome === 'answered') {
      this.bulkItems.inc({ channel: channelId }, job.items);
      this.bulkJobSeconds.observe({ channel: channelId }, job.durationMs / 1000);
    }
  }

  /** Success ratio since start, for the read API and alerts. */
  successRatio(channelId: string): number {
    const tally = this.attempts.get(channelId);
    return tally && tally.all > 0 ? tally.ok / tally.all : 1;
  }
}
