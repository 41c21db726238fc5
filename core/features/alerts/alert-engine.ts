import type { AlertSettings } from '../../config/config-types.ts';
import type { DispatcherSnapshot, DispatchObserver } from '../../dispatch/dispatch-types.ts';
import { describeError } from '../../errors.ts';
import { formatCount, formatMs, formatPercent } from '../../human-format.ts';
import type { DriftFinding, EventOutcome } from '../../ledger/ledger-types.ts';
import { LagWindow } from '../../metrics/lag-window.ts';
import type { HubMetrics } from '../../metrics/hub-metrics.ts';
import type { Logger } from '../../sdk.ts';
import type { Alert, AlertKind, AlertSeverity } from './alert-types.ts';
import { AlertWebhook } from './alert-webhook.ts';
import { WindowedTally } from './windowed-tally.ts';

/** How long a cleared alert stays listed at `GET /v1/alerts`. */
export const CLEARED_KEPT_MS = 15 * 60_000;
/** Cleared alerts listed at most. */
export const CLEARED_KEPT_MAX = 200;
/** Oversell times kept per channel: beyond this the window count saturates (it only has to be > 0). */
const MAX_OVERSELL_TIMES = 10_000;

const SEVERITY: Record<AlertKind, AlertSeverity> = {
  sync_lag: 'warning',
  oversell: 'critical',
  success_rate: 'critical',
  dead_letters: 'warning',
  consumer_backlog: 'warning',
  drift: 'warning',
};

/** What the engine reads from the bus; each call may fail (NATS away), which skips that reading once. */
export interface AlertProbes {
  /** Dead letters waiting per channel id ('' for events that could not be applied). */
  deadLetters(): Promise<Map<string, number>>;
  /** Inbound events not yet applied (undelivered plus received and uncommitted). */
  backlog(): Promise<number>;
}

export interface AlertEngineOptions {
  settings: AlertSettings;
  /** Enabled channel ids. */
  channels: readonly string[];
  /** Per-channel dispatcher snapshots (pending SKUs, oldest unconfirmed change). */
  snapshot(channelId: string): DispatcherSnapshot | undefined;
  probes: AlertProbes;
  metrics: HubMetrics;
  logger: Logger;
}

/** One measured threshold at one evaluation. */
interface Reading {
  kind: AlertKind;
  channel: string | undefined;
  value: number;
  threshold: number;
  firing: boolean;
  message: string;
}

/**
 * Evaluates the article's thresholds every `evaluateIntervalMs`, per channel, over a sliding window of
 * `windowMs`: sync-lag p99, any oversell, push success rate; plus dead-letter depth and consumer backlog.
 * Feeds on dispatch outcomes ({@link DispatchObserver}) and committed ledger outcomes
 * ({@link recordOutcomes}); keeps the firing and recently cleared alerts, sets `alerts_firing`, and
 * sends a notification to the webhook whenever an alert fires or clears.
 */
export class AlertEngine implements Partial<DispatchObserver> {
  readonly #options: AlertEngineOptions;
  readonly #settings: AlertSettings;
  readonly #lag = new Map<string, LagWindow>();
  readonly #tally = new Map<string, WindowedTally>();
  readonly #oversells = new Map<string, number[]>();
  /** When read-backs found each drifted SKU, per channel, within the window. */
  readonly #drift = new Map<string, number[]>();
  readonly #active = new Map<string, Alert>();
  #cleared: Alert[] = [];
  readonly #webhook: AlertWebhook | undefined;
  #timer: NodeJS.Timeout | null = null;
  #evaluating: Promise<void> | null = null;
  #evaluatedAt: number | null = null;
  #stopped = false;

  constructor(options: AlertEngineOptions) {
    this.#options = options;
    this.#settings = Object.freeze({ ...options.settings });
    for (const channel of options.channels) {
      this.#lag.set(channel, new LagWindow(this.#settings.windowMs));
      this.#tally.set(channel, new WindowedTally(this.#settings.windowMs));
    }
    if (this.#settings.webhookUrl) this.#webhook = new AlertWebhook({ url: this.#settings.webhookUrl, logger: options.logger });
  }

  // --- inputs ----------------------------------------------------------------------------------

  confirmed(channelId: string, _sku: string, lagMs: readonly number[]): void {
    const window = this.#lag.get(channelId);
    const at = Date.now();
    if (window) for (const lag of lagMs) window.add(lag, at);
  }

  attempted(channelId: string, ok: boolean): void {
    this.#tally.get(channelId)?.add(ok);
  }

  /** A read-back found these SKUs of `channelId` showing other than the ledger gives. */
  driftFound(channelId: string, findings: readonly DriftFinding[]): void {
    let times = this.#drift.get(channelId);
    if (!times) this.#drift.set(channelId, (times = []));
    const now = Date.now();
    for (let i = 0; i < findings.length; i += 1) {
      if (times.length >= MAX_OVERSELL_TIMES) times.shift();
      times.push(now);
    }
  }

  /** Called with every committed group's outcomes: remembers when each oversell happened, by source channel. */
  recordOutcomes(outcomes: readonly EventOutcome[]): void {
    if (!this.#settings.oversell) return;
    const now = Date.now();
    for (const outcome of outcomes) {
      for (const oversell of outcome.oversells) {
        let times = this.#oversells.get(oversell.channel);
        if (!times) this.#oversells.set(oversell.channel, (times = []));
        if (times.length >= MAX_OVERSELL_TIMES) times.shift();
        times.push(now);
      }
    }
  }

  // --- lifecycle -------------------------------------------------------------------------------

  /** Starts evaluating every `evaluateIntervalMs` (the first evaluation after one interval). */
  start(): void {
    if (this.#stopped || this.#timer) return;
    this.#schedule();
  }

  /** Stops evaluating, waits for a running evaluation, and gives queued webhook calls a moment to leave. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#evaluating;
    await this.#webhook?.close();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.evaluate().finally(() => {
        if (!this.#stopped) this.#schedule();
      });
    }, this.#settings.evaluateIntervalMs);
    this.#timer.unref();
  }

  // --- evaluation ------------------------------------------------------------------------------

  /** Evaluates every threshold once now (never two at a time); never throws. */
  evaluate(): Promise<void> {
    this.#evaluating ??= this.#evaluate()
      .catch((err: unknown) => this.#options.logger.error('alert evaluation failed', { error: describeError(err) }))
      .finally(() => (this.#evaluating = null));
    return this.#evaluating;
  }

  async #evaluate(): Promise<void> {
    const now = Date.now();
    const readings: Reading[] = [];
    /** Kinds whose probe failed this time: their alerts keep their state rather than clearing. */
    const unknown = new Set<AlertKind>();
    for (const channel of this.#options.channels) {
      const snapshot = this.#options.snapshot(channel);
      readings.push(this.#lagReading(channel, snapshot, now), ...this.#successReading(channel, now));
      if (snapshot) this.#options.metrics.pending.set({ channel }, snapshot.pending);
    }
    readings.push(...this.#oversellReadings(now), ...this.#driftReadings(now));
    const [deadLetters, backlog] = await Promise.allSettled([this.#options.probes.deadLetters(), this.#options.probes.backlog()]);
    if (deadLetters.status === 'fulfilled') readings.push(...this.#deadLetterReadings(deadLetters.value));
    else {
      unknown.add('dead_letters');
      this.#options.logger.warn('alerts: reading the dead-letter stream failed', { error: describeError(deadLetters.reason) });
    }
    if (backlog.status === 'fulfilled') readings.push(this.#backlogReading(backlog.value));
    else {
      unknown.add('consumer_backlog');
      this.#options.logger.warn('alerts: reading the consumer backlog failed', { error: describeError(backlog.reason) });
    }
    if (this.#stopped) return;
    this.#apply(readings, unknown, now);
    this.#evaluatedAt = now;
  }

  /**
   * p99 of the lag of changes confirmed within the window, or the age of the oldest change still
   * unconfirmed when that is larger: a channel that confirms nothing produces no samples, yet is the
   * most behind of all.
   */
  #lagReading(channel: string, snapshot: DispatcherSnapshot | undefined, now: number): Reading {
    const threshold = this.#settings.syncLagP99Ms;
    const p99 = this.#lag.get(channel)?.quantile(0.99, now) ?? null;
    const oldest = snapshot?.oldestPendingAt ?? null;
    const waiting = oldest === null ? 0 : Math.max(0, now - oldest);
    const value = Math.max(p99 ?? 0, waiting);
    const message =
      waiting > (p99 ?? 0)
        ? `channel "${channel}": a change has waited ${formatMs(waiting)} for confirmation, above the ${formatMs(threshold)} sync-lag threshold`
        : `channel "${channel}": sync lag p99 over the last ${formatMs(this.#settings.windowMs)} is ${formatMs(value)}, above ${formatMs(threshold)}`;
    return { kind: 'sync_lag', channel, value, threshold, firing: value > threshold, message };
  }

  /** No attempts in the window: no reading, so a quiet channel neither fires nor stays firing. */
  #successReading(channel: string, now: number): Reading[] {
    const threshold = this.#settings.minSuccessRate;
    const { ok, all } = this.#tally.get(channel)?.totals(now) ?? { ok: 0, all: 0 };
    if (all === 0) return [];
    const value = round(ok / all);
    const message = `channel "${channel}": ${formatCount(ok)} of ${formatCount(all)} pushes succeeded over the last ${formatMs(this.#settings.windowMs)} (${formatPercent(ok / all)}), below ${formatPercent(threshold)}`;
    return [{ kind: 'success_rate', channel, value, threshold, firing: value < threshold, message }];
  }

  #oversellReadings(now: number): Reading[] {
    const readings: Reading[] = [];
    const from = now - this.#settings.windowMs;
    for (const [channel, times] of this.#oversells) {
      while (times.length > 0 && times[0]! < from) times.shift();
      if (times.length === 0) this.#oversells.delete(channel);
      const count = times.length;
      readings.push({
        kind: 'oversell',
        channel,
        value: count,
        threshold: 0,
        firing: count > 0,
        message: `orders from "${channel}" asked for more than the ledger had ${formatCount(count)} time(s) in the last ${formatMs(this.#settings.windowMs)}`,
      });
    }
    return readings;
  }

  /** Drifted SKUs found within the window; a channel with none in it has no reading (and clears). */
  #driftReadings(now: number): Reading[] {
    const threshold = this.#settings.driftSkus ?? 1;
    const readings: Reading[] = [];
    const from = now - this.#settings.windowMs;
    for (const [channel, times] of this.#drift) {
      while (times.length > 0 && times[0]! < from) times.shift();
      if (times.length === 0) {
        this.#drift.delete(channel);
        continue;
      }
      const count = times.length;
      readings.push({
        kind: 'drift',
        channel,
        value: count,
        threshold,
        firing: count >= threshold,
        message: `channel "${channel}" showed other quantities than the ledger gives for ${formatCount(count)} SKU(s) in the last ${formatMs(this.#settings.windowMs)} (pushed again; see stockrelay reconcile)`,
      });
    }
    return readings;
  }

  #deadLetterReadings(depths: Map<string, number>): Reading[] {
    const threshold = this.#settings.deadLetterDepth;
    const readings: Reading[] = [];
    for (const channel of new Set(['', ...this.#options.channels, ...depths.keys()])) {
      const value = depths.get(channel) ?? 0;
      this.#options.metrics.deadLetterDepth.set({ channel }, value);
      readings.push({
        kind: 'dead_letters',
        channel: channel === '' ? undefined : channel,
        value,
        threshold,
        firing: value >= threshold,
        message: channel === '' ? `${formatCount(value)} inbound event(s) wait in the dead-letter stream` : `${formatCount(value)} push(es) to channel "${channel}" wait in the dead-letter stream`,
      });
    }
    return readings;
  }

  #backlogReading(value: number): Reading {
    const threshold = this.#settings.backlog;
    this.#options.metrics.consumerBacklog.set(value);
    return { kind: 'consumer_backlog', channel: undefined, value, threshold, firing: value > threshold, message: `${formatCount(value)} inbound events wait to be applied, above ${formatCount(threshold)}` };
  }

  #apply(readings: readonly Reading[], unknown: ReadonlySet<AlertKind>, now: number): void {
    const seen = new Set<string>();
    for (const reading of readings) {
      const id = reading.channel === undefined ? reading.kind : `${reading.kind}:${reading.channel}`;
      seen.add(id);
      const active = this.#active.get(id);
      if (reading.firing && !active) {
        const alert: Alert = {
          id,
          kind: reading.kind,
          ...(reading.channel !== undefined ? { channel: reading.channel } : {}),
          severity: SEVERITY[reading.kind],
          firing: true,
          since: new Date(now).toISOString(),
          value: reading.value,
          threshold: reading.threshold,
          message: reading.message,
        };
        this.#active.set(id, alert);
        this.#notify('firing', alert);
      } else if (reading.firing && active) {
        active.value = reading.value;
        active.message = reading.message;
      } else if (active) {
        this.#resolve(active, reading.value, now);
      }
    }
    // Alerts without a reading (the window emptied, a probe answered nothing for them) have cleared.
    for (const alert of [...this.#active.values()]) {
      if (!seen.has(alert.id) && !unknown.has(alert.kind)) this.#resolve(alert, 0, now);
    }
    const keepFrom = now - CLEARED_KEPT_MS;
    this.#cleared = this.#cleared.filter((a) => Date.parse(a.resolvedAt!) >= keepFrom).slice(0, CLEARED_KEPT_MAX);
  }

  #resolve(alert: Alert, value: number, now: number): void {
    this.#active.delete(alert.id);
    alert.firing = false;
    alert.value = value;
    alert.resolvedAt = new Date(now).toISOString();
    this.#cleared.unshift(alert);
    this.#notify('resolved', alert);
  }

  #notify(status: 'firing' | 'resolved', alert: Alert): void {
    this.#options.metrics.alertsFiring.set({ kind: alert.kind, channel: alert.channel ?? '' }, status === 'firing' ? 1 : 0);
    const log = status === 'firing' ? this.#options.logger.warn : this.#options.logger.info;
    log.call(this.#options.logger, status === 'firing' ? 'alert firing' : 'alert resolved', { alert: alert.id, value: alert.value, threshold: alert.threshold, message: alert.message });
    this.#webhook?.send({ status, alert: { ...alert } });
  }

  // --- queries ---------------------------------------------------------------------------------

  /** Firing alerts (critical first, then oldest first), then those cleared recently (newest first). Copies. */
  list(): Alert[] {
    const firing = [...this.#active.values()].sort((a, b) => (a.severity === b.severity ? a.since.localeCompare(b.since) : a.severity === 'critical' ? -1 : 1));
    return [...firing, ...this.#cleared].map((alert) => ({ ...alert }));
  }

  /** When thresholds were last evaluated (epoch ms), or null before the first evaluation. */
  get evaluatedAt(): number | null {
    return this.#evaluatedAt;
  }
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
