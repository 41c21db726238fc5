import type { Alert } from '../alerts/alert-types.ts';
import { describeError } from '../../errors.ts';
import type { HubContext } from '../hub-context.ts';

/** Upper bounds (ms) of the dashboard's lag histogram bars; a last bar holds everything slower. */
export const LAG_BARS_MS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
/** Seconds of per-second lag p99 in a channel's sparkline. */
export const SERIES_SECONDS = 120;
/** Seconds the histogram, recent success rate and recent throttles cover. */
const RECENT_SECONDS = 60;
/** Lag samples kept per channel per second for that second's p99 (a uniform sample beyond it): sorting stays cheap under load. */
const SAMPLES_PER_SECOND = 1_000;
const OVERSELLS_KEPT = 20;

export interface ChannelPanel {
  id: string;
  connector: string;
  /** Sync lag over the last minute (`metrics.recentLag`); null without samples. */
  lag: { p50: number | null; p99: number | null; samples: number };
  /** Lag p99 of each of the last {@link SERIES_SECONDS} seconds, oldest first; null for seconds without a confirmation. */
  series: Array<number | null>;
  /** Confirmations of the last minute per {@link LAG_BARS_MS} bar (one more entry: slower than the last bound). */
  histogram: number[];
  /** Pushed items that succeeded over the last minute (null: nothing attempted), and since start. */
  success: { recent: number | null; sinceStart: number; attemptsRecent: number };
  throttles: { recent: number; total: number };
  /** Epoch ms until which the channel is paused by a throttle, or 0. */
  throttledUntil: number;
  pending: number;
  inFlight: number;
  /** SKUs whose pushes are parked after running out of attempts. */
  parked: number;
  /** Push letters of this channel waiting in the dead-letter stream. */
  deadLetters: number;
  oldestPendingAt: number | null;
}

export interface OversellItem {
  at: string;
  eventId: string;
  channel: string;
  sku: string;
  requested: number;
  availableBefore: number;
  shortfall: number;
}

/** What the dashboard receives every second over `GET /v1/stream`. */
export interface DashboardSnapshot {
  at: string;
  thresholds: { syncLagP99Ms: number; minSuccessRate: number };
  lagBarsMs: readonly number[];
  /** Events stored in the stream but not yet committed to the ledger. */
  backlog: number | null;
  /** Invalid events waiting in the dead-letter stream. */
  eventDeadLetters: number | null;
  channels: ChannelPanel[];
  /** Newest first. */
  oversells: OversellItem[];
  alerts: Alert[];
}

/** Per-channel figures gathered between two ticks, and the rings they are rolled into. */
class ChannelTally {
  samples: number[] = [];
  seen = 0;
  bars = new Array<number>(LAG_BARS_MS.length + 1).fill(0);
  attempts = 0;
  ok = 0;
  throttles = 0;
  totalThrottles = 0;
  readonly series: Array<number | null> = new Array<number | null>(SERIES_SECONDS).fill(null);
  readonly recent: Array<{ bars: number[]; attempts: number; ok: number; throttles: number }> = [];

  add(lag: number): void {
    this.bars[barOf(lag)]! += 1;
    this.seen += 1;
    if (this.samples.length < SAMPLES_PER_SECOND) this.samples.push(lag);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < SAMPLES_PER_SECOND) this.samples[slot] = lag;
    }
  }

  /** Closes the current second. */
  roll(): void {
    this.series.shift();
    this.series.push(percentile(this.samples, 0.99));
    this.recent.push({ bars: this.bars, attempts: this.attempts, ok: this.ok, throttles: this.throttles });
    if (this.recent.length > RECENT_SECONDS) this.recent.shift();
    this.samples = [];
    this.seen = 0;
    this.bars = new Array<number>(LAG_BARS_MS.length + 1).fill(0);
    this.attempts = 0;
    this.ok = 0;
    this.throttles = 0;
  }
}

/** The slices of the hub context the feed reads. */
export type DashboardSources = Pick<HubContext, 'config' | 'logger' | 'metrics' | 'ledger' | 'channels' | 'bus' | 'deadLetters' | 'alerts' | 'changes'>;

/**
 * Follows a running hub for the live dashboard: taps the dispatch outcomes (lag, attempts, throttles),
 * listens for oversells, and once a second builds a {@link DashboardSnapshot} for every subscriber.
 * It keeps its own short history so a page opened now still draws the last two minutes.
 */
export class DashboardFeed {
  readonly #ctx: DashboardSources;
  readonly #tallies = new Map<string, ChannelTally>();
  readonly #subscribers = new Set<(snapshot: DashboardSnapshot) => void>();
  readonly #oversells: OversellItem[] = [];
  readonly #detach: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #latest: DashboardSnapshot | undefined;
  #backlog: number | null = null;
  #depth: { events: number; pushes: Record<string, number> } | null = null;

  constructor(ctx: DashboardSources) {
    this.#ctx = ctx;
    for (const channel of ctx.channels.list()) this.#tallies.set(channel.id, new ChannelTally());
    this.#detach.push(
      ctx.metrics.tap({
        confirmed: (channelId, _sku, lagMs) => {
          const tally = this.#tallies.get(channelId);
          if (tally) for (const lag of lagMs) tally.add(lag);
        },
        attempted: (channelId, ok) => {
          const tally = this.#tallies.get(channelId);
          if (!tally) return;
          tally.attempts += 1;
          if (ok) tally.ok += 1;
        },
        throttled: (channelId) => {
          const tally = this.#tallies.get(channelId);
          if (!tally) return;
          tally.throttles += 1;
          tally.totalThrottles += 1;
        },
      }),
      ctx.changes.listen((_changes, outcomes) => {
        const at = new Date().toISOString();
        for (const outcome of outcomes) for (const o of outcome.oversells) this.#addOversell({ at, ...o });
      }),
    );
  }

  /** Starts the once-a-second snapshots, seeding the oversell feed from the ledger. */
  start(): void {
    if (this.#timer) return;
    void this.#ctx.ledger
      .listOversells({ limit: OVERSELLS_KEPT })
      .then((rows) => {
        const live = new Set(this.#oversells.map((o) => `${o.eventId}\u0000${o.sku}`));
        for (const row of rows.reverse()) {
          if (live.has(`${row.eventId}\u0000${row.sku}`)) continue;
          const { eventId, channel, sku, requested, availableBefore, shortfall } = row;
          this.#oversells.push({ at: row.createdAt.toISOString(), eventId, channel, sku, requested, availableBefore, shortfall });
        }
        this.#oversells.sort((a, b) => b.at.localeCompare(a.at));
        this.#oversells.splice(OVERSELLS_KEPT);
      })
      .catch((err: unknown) => this.#ctx.logger.warn('dashboard: reading recent oversells failed', { error: describeError(err) }));
    this.#timer = setInterval(() => void this.#tick(), 1000);
    this.#timer.unref();
  }

  /** The newest snapshot, built on demand when nobody was watching. */
  async latest(): Promise<DashboardSnapshot> {
    if (this.#latest) return this.#latest;
    await this.#probe();
    return this.#snapshot();
  }

  /** Calls `listener` with every new snapshot until the returned function is called. */
  subscribe(listener: (snapshot: DashboardSnapshot) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const detach of this.#detach.splice(0)) detach();
    this.#subscribers.clear();
  }

  #addOversell(item: OversellItem): void {
    this.#oversells.unshift(item);
    this.#oversells.splice(OVERSELLS_KEPT);
  }

  async #tick(): Promise<void> {
    for (const tally of this.#tallies.values()) tally.roll();
    // Percentiles and stream probes cost CPU and NATS requests: only while someone watches.
    if (this.#ticking || this.#subscribers.size === 0) {
      this.#latest = undefined;
      return;
    }
    this.#ticking = true;
    try {
      await this.#probe();
      const snapshot = this.#snapshot();
      this.#latest = snapshot;
      for (const listener of this.#subscribers) listener(snapshot);
    } finally {
      this.#ticking = false;
    }
  }

  /** Stream figures; on a NATS hiccup the last known ones stay (the page shows their time). */
  async #probe(): Promise<void> {
    const [depth, backlog] = await Promise.allSettled([this.#ctx.deadLetters.depth(), this.#ctx.bus.backlog()]);
    if (depth.status === 'fulfilled') this.#depth = depth.value;
    if (backlog.status === 'fulfilled') this.#backlog = backlog.value;
  }

  #snapshot(): DashboardSnapshot {
    const { config } = this.#ctx;
    const now = Date.now();
    const channels: ChannelPanel[] = [];
    for (const channel of this.#ctx.channels.list()) {
      const tally = this.#tallies.get(channel.id);
      if (!tally) continue;
      const window = this.#ctx.metrics.recentLag.get(channel.id);
      const recent = tally.recent;
      const attempts = recent.reduce((sum, s) => sum + s.attempts, 0);
      const ok = recent.reduce((sum, s) => sum + s.ok, 0);
      const state = channel.snapshot();
      channels.push({
        id: channel.id,
        connector: channel.connector,
        lag: { p50: window?.quantile(0.5, now) ?? null, p99: window?.quantile(0.99, now) ?? null, samples: window?.count(now) ?? 0 },
        series: [...tally.series],
        histogram: recent.reduce((bars, s) => bars.map((n, i) => n + s.bars[i]!), new Array<number>(LAG_BARS_MS.length + 1).fill(0)),
        success: { recent: attempts === 0 ? null : ok / attempts, sinceStart: this.#ctx.metrics.successRatio(channel.id), attemptsRecent: attempts },
        throttles: { recent: recent.reduce((sum, s) => sum + s.throttles, 0), total: tally.totalThrottles },
        throttledUntil: state.throttledUntil,
        pending: state.pending,
        inFlight: state.inFlight,
        parked: state.deadLettered,
        deadLetters: this.#depth?.pushes[channel.id] ?? 0,
        oldestPendingAt: state.oldestPendingAt,
      });
    }
    return {
      at: new Date(now).toISOString(),
      thresholds: { syncLagP99Ms: config.alerts.syncLagP99Ms, minSuccessRate: config.alerts.minSuccessRate },
      lagBarsMs: LAG_BARS_MS,
      backlog: this.#backlog,
      eventDeadLetters: this.#depth?.events ?? null,
      channels,
      oversells: [...this.#oversells],
      alerts: this.#ctx.alerts.list().filter((a) => a.firing),
    };
  }
}

function barOf(lag: number): number {
  const index = LAG_BARS_MS.findIndex((bound) => lag <= bound);
  return index === -1 ? LAG_BARS_MS.length : index;
}

function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
