import { setMaxListeners } from 'node:events';
import type { FastifyInstance } from 'fastify';
import type { PubAck } from '@nats-io/jetstream';
import { adminFeature } from './features/admin/admin-feature.ts';
import type { DeadLetters } from './features/admin/dead-letters.ts';
import { hubDeadLetters } from './features/admin/hub-dead-letters.ts';
import { explainChannelQuantity } from './features/admin/why.ts';
import { alertsFeature, type AlertsFeature } from './features/alerts/alerts-feature.ts';
import { ChangeFeed } from './bus/change-feed.ts';
import { EventApplier } from './ledger/event-applier.ts';
import { NatsBus } from './bus/nats-bus.ts';
import { replyToRequests } from './bus/reply-to-requests.ts';
import { changeSubject } from './bus/subjects.ts';
import type { ChannelConfig, LoadedConfig } from './config/config-types.ts';
import { dashboardFeature } from './features/dashboard/dashboard-feature.ts';
import { ChannelDispatcher } from './dispatch/channel-dispatcher.ts';
import { systemClock } from './dispatch/clock.ts';
import { LastUnits } from './dispatch/last-units.ts';
import { recordSales, SalesRate } from './dispatch/sales-rate.ts';
import { localLeases, postgresLeases, type ChannelLeases } from './dispatch/channel-leases.ts';
import { channelConfigFingerprint } from './dispatch/config-fingerprint.ts';
import { shownQuantity, type Dispatcher, type DispatcherOptions, type PushDeadLetter } from './dispatch/dispatch-types.ts';
import { describeError } from './errors.ts';
import type { InventoryEvent } from './events/event-types.ts';
import { checkOrderEvent } from './http/check-webhook-events.ts';
import { startHttpServer, type WebhookTarget } from './http/http-server.ts';
import { withDeadline } from './http/with-deadline.ts';
import { openDatabase, type LedgerDatabase } from './ledger/database.ts';
import { DatabaseConnectorState, HOST_STATE_KEY_PREFIX } from './ledger/database-connector-state.ts';
import { Ledger } from './ledger/ledger.ts';
import { startLedgerPruner } from './ledger/ledger-pruner.ts';
import type { EventOutcome, LedgerChange } from './ledger/ledger-types.ts';
import { migrateToLatest } from './ledger/migrate.ts';
import type { ChangeListener, ChannelView, HubContext } from './features/hub-context.ts';
import type { HubFeature } from './features/hub-feature.ts';
import { createLogger, redactingLogger, type HubLogger } from './logger.ts';
import { HubMetrics } from './metrics/hub-metrics.ts';
import { loadConnector, type LoadedConnector } from './plugins/load-connector.ts';
import { mcpFeature } from './features/mcp/mcp-feature.ts';
import { mcpStoredReads } from './features/mcp/mcp-stored-reads.ts';
import { readFeature } from './features/read/read-feature.ts';
import type { Logger } from './sdk.ts';
import { SecretRegistry } from './secrets/secret-registry.ts';
import { addChannelSecrets, addConfigSecrets } from './secrets/config-secrets.ts';
import { redactingConnector } from './secrets/redacting-connector.ts';
import { loadConnectorDefinition } from './plugins/load-connector-definition.ts';

export interface HubOptions {
  logger?: Logger;
  /** Overrides the config's HTTP port (0 picks a free one: tests). */
  httpPort?: number;
  /** Features started after the built-in ones (read API, alerts, admin, dashboard), in this order. */
  features?: HubFeature[];
  /** Collect process metrics (CPU, memory) on /metrics. Default true. */
  processMetrics?: boolean;
  /** How often a standby hub tries to take the channels another hub pushes, ms. Default 2000. */
  leaseIntervalMs?: number;
  /** Interval between `pollOrders` calls for queue-fed channels, ms. Default 1000. */
  pollIntervalMs?: number;
}

/** How often a standby hub tries to take over channels, ms. */
const LEASE_INTERVAL_MS = 2000;
/** Where a channel's order catch-up cursor is kept, among its connector state (a key no connector may use). */
export const CATCH_UP_CURSOR_KEY = `${HOST_STATE_KEY_PREFIX}order-catch-up-cursor`;

/**
 * The running hub, and the one place its parts are put together: it opens the database and migrates it,
 * connects the bus, loads every plugin, wires bus → ledger → dispatch (the event applier commits, the
 * dispatchers of the channels this hub holds push), then starts its features (read API, alerts, admin,
 * dashboard) in order with one {@link HubContext}, and stops them in reverse. `Hub.start` refuses to start
 * when anything the config names is missing or broken (database, NATS, a plugin), naming what and why.
 */
export class Hub {
  readonly dispatchers = new Map<string, Dispatcher>();
  readonly connectors = new Map<string, LoadedConnector>();
  readonly metrics: HubMetrics;
  /** Every secret value known to this hub; masked in what it logs and answers. */
  readonly secrets: SecretRegistry;
  /** The dead-letter stream as operators work with it; push letters replay through this hub's dispatchers. */
  readonly deadLetters: DeadLetters;
  url = '';
  private readonly abort = new AbortController();
  private readonly listeners = new Set<ChangeListener>();
  private applier: EventApplier | undefined;
  private http: FastifyInstance | undefined;
  private pollers: NodeJS.Timeout[] = [];
  /** Features that started, in start order; stopped in reverse before the flow stops. */
  private readonly started: HubFeature[] = [];
  private stopped = false;
  private leases: ChannelLeases | undefined;
  private changeFeed: ChangeFeed | undefined;
  /** Every SKU's sales rate, from every commit this hub learns of: one for all its dispatchers, fed once. */
  private readonly sales = new SalesRate(systemClock);
  private readonly leased = new Set<string>();
  /**
   * SKUs every channel this hub pushes shows at 0 (the sales rate does not count that time as silence),
   * and the one channel each one's last units are offered on meanwhile.
   */
  private readonly lastUnits: LastUnits;
  private claimTimer: NodeJS.Timeout | undefined;
  private claiming = false;

  private constructor(
    readonly loaded: LoadedConfig,
    readonly database: LedgerDatabase,
    readonly ledger: Ledger,
    readonly bus: NatsBus,
    readonly logger: HubLogger,
    options: HubOptions,
    secrets: SecretRegistry,
  ) {
    this.secrets = secrets;
    const rules = new Map(loaded.config.channels.map((c) => [c.id, c.rules]));
    this.metrics = new HubMetrics({ processMetrics: options.processMetrics ?? true, rules: (channelId) => rules.get(channelId) });
    this.lastUnits = new LastUnits({
      pushing: () => this.leased,
      pushesAll: () => this.leased.size === this.dispatchers.size,
      canHold: (channelId, available) => {
        const channelRules = rules.get(channelId);
        return channelRules?.forecast?.enabled === true && shownQuantity(channelRules, available) > 0;
      },
      targetOf: (channelId, sku) => this.dispatchers.get(channelId)?.targetOf?.(sku),
      landingMs: (channelId) => this.dispatchers.get(channelId)?.landingMs?.() ?? Infinity,
      hiddenChanged: (sku, hidden) => this.sales.hiddenEverywhere(sku, hidden),
      now: () => systemClock.now(),
    });
    this.metrics.tap({
      confirmed: (channelId, sku, _lags, _callMs, shown) => {
        if (shown) this.lastUnits.confirmed(channelId, sku, shown.quantity, shown.available);
      },
    });
    this.deadLetters = hubDeadLetters({ bus, isProcessed: (eventId) => ledger.history.isProcessed(eventId), dispatcher: (channelId) => this.dispatchers.get(channelId) });
  }

  static async start(loaded: LoadedConfig, options: HubOptions = {}): Promise<Hub> {
    // Every secret the config holds is known before the first line is logged; connectors add theirs.
    const secrets = new SecretRegistry();
    addConfigSecrets(secrets, loaded);
    const logger = redactingLogger(options.logger ?? createLogger({ component: 'hub' }), secrets);
    const { config } = loaded;
    for (const warning of loaded.warnings) logger.warn(warning);

    const database = await openDatabase({ url: config.database.url, dataDir: config.database.dataDir, poolSize: config.database.poolSize });
    let bus: NatsBus | undefined;
    let hub: Hub | undefined;
    try {
      await migrateToLatest(database.db);
      const ledger = new Ledger(database.db, { writer: database.writer, maxConflictRetries: config.ledger.maxConflictRetries });
      bus = await NatsBus.connect(config.nats);
      await bus.ensureTopology();
      hub = new Hub(loaded, database, ledger, bus, logger, options, secrets);
      await hub.boot(options);
      return hub;
    } catch (err) {
      if (hub) await hub.stop().catch(() => undefined);
      else {
        await bus?.close().catch(() => undefined);
        await database.close().catch(() => undefined);
      }
      throw err;
    }
  }

  private async boot(options: HubOptions): Promise<void> {
    const { config } = this.loaded;
    // Every plugin is loaded before anything starts moving: one broken channel refuses the start.
    for (const channel of config.channels.filter((c) => c.enabled)) {
      // The options the connector's schema marks writeOnly are secret: known before its code runs.
      const definition = await loadConnectorDefinition(channel.connector, this.loaded.dir, channel.id).catch(() => undefined);
      if (definition) addChannelSecrets(this.secrets, channel, definition.optionsSchema);
      const started = await loadConnector(channel, this.loaded.dir, {
        signal: this.abort.signal,
        logger: this.logger,
        state: new DatabaseConnectorState(this.database.db, channel.id),
        registerSecret: (value) => this.secrets.add(value),
      });
      const loaded: LoadedConnector = { ...started, instance: redactingConnector(started.instance, this.secrets) };
      this.connectors.set(channel.id, loaded);
      this.metrics.addChannel(channel.id);
    }
    for (const channel of config.channels.filter((c) => c.enabled)) this.dispatchers.set(channel.id, this.makeDispatcher(channel.id));
    // One dispatcher per channel across every hub sharing this ledger: a channel is pushed by the hub
    // holding its lease; the others stand by and take it over when that hub goes away.
    this.leases = config.database.url ? postgresLeases(config.database.url, this.logger) : localLeases();
    this.leases.onLost(() => this.leasesLost());
    await this.claimChannels();
    this.claimTimer = setInterval(() => void this.claimChannels(), options.leaseIntervalMs ?? LEASE_INTERVAL_MS);
    this.claimTimer.unref();

    this.changeFeed = new ChangeFeed(this.bus.nc, changeSubject(config.nats.subjectPrefix), (changes) => this.notifyPushing(changes));

    // Features start before events flow, so none misses a commit (an oversell, a change to show).
    const alerts = alertsFeature();
    const context = this.context(alerts);
    const mcp = mcpFeature({ stored: mcpStoredReads(this.database.db), redact: (text) => this.secrets.redact(text) });
    const features = [this.prunerFeature(), readFeature(), alerts, adminFeature(), dashboardFeature(), mcp, ...(options.features ?? [])];
    for (const feature of features) {
      try {
        await feature.start?.(context);
      } catch (err) {
        this.logger.error('feature failed to start', { feature: feature.name, error: describeError(err) });
        throw err;
      }
      this.started.push(feature);
    }

    const webhooks = new Map<string, WebhookTarget>();
    for (const [channelId, loaded] of this.connectors) if (loaded.instance.handleWebhook) webhooks.set(channelId, { channelId, connector: loaded.instance });
    const { app, url } = await startHttpServer({
      host: config.http.host,
      port: options.httpPort ?? config.http.port,
      logger: this.logger,
      metrics: this.metrics,
      webhooks,
      publish: async (event) => ({ duplicate: (await this.publish(event)).duplicate }),
      health: () => this.health(),
      routes: features.flatMap((feature) => (feature.routes ? [(app: FastifyInstance) => feature.routes!(app, context)] : [])),
      signal: this.abort.signal,
      timeouts: config.http,
      protectMetrics: config.http.protectMetrics ? config.http.tokens : undefined,
      redact: (text) => this.secrets.redact(text),
    });
    this.http = app;
    this.url = url;

    this.applier = new EventApplier({
      bus: this.bus,
      // The applier needs the write path only; the dispatchers the channel-state store; features the read models.
      ledger: this.ledger.writer,
      logger: this.logger,
      maxBatchEvents: config.ledger.maxBatchEvents,
      onCommitted: (outcomes, events, commitMs) => this.committed(outcomes, events, commitMs),
      onDeadLetter: () => this.metrics.deadLetters.inc({ kind: 'event', channel: '' }),
      redact: (text) => this.secrets.redact(text),
      onLedgerAvailability: (available) => this.metrics.ledgerUnavailable.set(available ? 0 : 1),
      onExpired: (events) => this.metrics.inboundExpired.inc(events),
    });
    await this.applier.start();
    this.startPollers(options.pollIntervalMs ?? 1000);
    this.logger.info('hub started', { url, channels: [...this.connectors.keys()] });
  }

  /** The slices of this hub its features get (see {@link HubContext}); built once, at start. */
  private context(alerts: AlertsFeature): HubContext {
    const { config } = this.loaded;
    const { nats } = config;
    const views = Object.freeze(config.channels.filter((c) => c.enabled).map((c) => this.channelView(c)));
    const byId = new Map(views.map((view) => [view.id, view]));
    const ledger = this.ledger;
    return Object.freeze({
      config,
      logger: this.logger,
      metrics: this.metrics,
      ledger: {
        readInventory: (channelIds, skus) => ledger.inventory.readInventory(channelIds, skus),
        lastReads: (channelIds, skus) => ledger.readBacks.lastReadsOf(channelIds, skus),
        listOversells: (options) => ledger.history.listOversells(options),
        isProcessed: (eventId) => ledger.history.isProcessed(eventId),
        explain: (channel, sku, options) => explainChannelQuantity({ inventory: ledger.inventory, history: ledger.history, readBacks: ledger.readBacks }, channel, sku, options),
      },
      channels: { list: () => views, get: (channelId) => byId.get(channelId) },
      bus: {
        backlog: async () => (await this.bus.jsm.consumers.info(nats.stream, nats.consumer)).num_pending + this.backlog(),
        respond: (subject, options, handler) => replyToRequests(this.bus.nc, subject, { ...options, logger: this.logger }, handler),
      },
      deadLetters: this.deadLetters,
      alerts: alerts.board,
      changes: { listen: (listener) => this.onChange(listener) },
    } satisfies HubContext);
  }

  /** A channel as features see it; its dispatcher is looked up at each call, since lease changes replace it. */
  private channelView(channel: ChannelConfig): ChannelView {
    const { id } = channel;
    return Object.freeze({
      id,
      connector: channel.connector,
      rules: channel.rules,
      pushing: () => this.leased.has(id),
      snapshot: () => this.dispatchers.get(id)!.snapshot(),
      skuStatus: (sku: string) => this.dispatchers.get(id)!.skuStatus?.(sku),
    });
  }

  /** Deletes expired idempotency records and audit rows beside the flow (see `ledger.*RetentionDays`). */
  private prunerFeature(): HubFeature {
    let pruner: { stop(): Promise<void> } | undefined;
    return {
      name: 'ledger-pruner',
      start: () => {
        pruner = startLedgerPruner(this.database.db, this.loaded.config, this.logger);
      },
      stop: () => pruner?.stop(),
    };
  }

  private makeDispatcher(channelId: string): ChannelDispatcher {
    const { config } = this.loaded;
    const channel = config.channels.find((c) => c.id === channelId)!;
    const loaded = this.connectors.get(channelId)!;
    return new ChannelDispatcher({
      channelId,
      connector: loaded.instance,
      limits: loaded.limits,
      rules: channel.rules,
      store: this.ledger.channelState,
      maxAttempts: config.dispatch.maxAttempts,
      backoffBaseMs: config.dispatch.backoffBaseMs,
      backoffMaxMs: config.dispatch.backoffMaxMs,
      reconcileIntervalMs: config.dispatch.reconcileIntervalMs,
      pushTimeoutMs: config.dispatch.pushTimeoutMs,
      lateWriteWindowMs: config.dispatch.lateWriteWindowMs,
      configFingerprint: channelConfigFingerprint(channel),
      connectorName: loaded.definition.name,
      onFenced: () => void this.channelFenced(channelId),
      deadLetter: (letter) => this.deadLetterPush(letter),
      observer: this.metrics,
      logger: this.logger,
      reads: { store: this.ledger.readBacks, share: channel.limits.readShare ?? config.dispatch.readShare, ...(channel.limits.dailyReads !== undefined ? { daily: channel.limits.dailyReads } : {}) },
      catchUp: this.catchUp(channel),
      sales: this.sales,
      lastUnits: this.lastUnits,
    });
  }

  /**
   * Missed-order catch-up of a channel, run by its dispatcher (so only by the hub holding its lease): the
   * cursor lives beside the connector's state, so it survives restarts and moves with the channel.
   */
  private catchUp(channel: ChannelConfig): NonNullable<DispatcherOptions['catchUp']> {
    const state = new DatabaseConnectorState(this.database.db, channel.id, 'host');
    return {
      intervalMs: channel.limits.catchUpIntervalMs ?? this.loaded.config.dispatch.catchUpIntervalMs,
      cursor: { get: () => state.get(CATCH_UP_CURSOR_KEY), set: (cursor) => state.set(CATCH_UP_CURSOR_KEY, cursor) },
      publish: (events) => this.publishFound(channel.id, events),
    };
  }

  /**
   * Publishes what a channel's orders API listed, each event checked as a webhook's would be. One the checks
   * refuse is logged and left out: it would be refused on every later read too, and must not hold the
   * orders after it back. Resolves once every other one is stored in the stream.
   */
  private async publishFound(channelId: string, events: readonly InventoryEvent[]): Promise<void> {
    const accepted: InventoryEvent[] = [];
    // A poll re-reads every order the channel changed since a little before its cursor: nearly all of them
    // reached the ledger through their webhooks. Publishing only the ones it has not applied keeps a busy
    // channel's catch-up from re-sending its whole last minute into the stream; one not applied yet is
    // published (and collapses with its webhook's copy by id, if that is still on its way).
    const applied = await this.ledger.processedAmong(events.map((e) => e.id));
    for (const event of events) {
      if (applied.has(event.id)) continue;
      const checked = checkOrderEvent(channelId, event);
      if (checked.ok) accepted.push(checked.event);
      else this.logger.error('order catch-up: an order event the connector listed is refused', { channel: channelId, reason: this.secrets.redact(checked.reason) });
    }
    await Promise.all(accepted.map((event) => this.publish(event)));
  }

  /** Takes the lease of every channel not pushed by this hub yet, and starts pushing the ones it got. */
  private async claimChannels(): Promise<void> {
    if (this.claiming || this.stopped) return;
    this.claiming = true;
    try {
      for (const channelId of this.dispatchers.keys()) {
        if (this.leased.has(channelId)) continue;
        if (!(await this.leases!.tryAcquire(channelId))) continue;
        this.leased.add(channelId);
        this.logger.info('pushing channel', { channel: channelId });
        await this.dispatchers.get(channelId)!.start();
      }
    } catch (err) {
      this.logger.warn('channel leases could not be taken; retrying', { error: describeError(err) });
    } finally {
      this.claiming = false;
    }
  }

  /** The session holding the leases ended: stop pushing at once, and stand by with fresh dispatchers. */
  private leasesLost(): void {
    for (const channelId of this.leased) {
      this.metrics.channelReleased(channelId);
      this.lastUnits.released(channelId);
      const lost = this.dispatchers.get(channelId)!;
      this.dispatchers.set(channelId, this.makeDispatcher(channelId));
      void lost.stop();
    }
    this.leased.clear();
  }

  /**
   * The database refused this hub's writes for a channel: another hub claimed it. Stand by for it with a
   * fresh dispatcher, and let the lease go so this hub does not look like its pusher.
   */
  private async channelFenced(channelId: string): Promise<void> {
    if (!this.leased.delete(channelId) || this.stopped) return;
    this.metrics.channelReleased(channelId);
    this.lastUnits.released(channelId);
    const fenced = this.dispatchers.get(channelId)!;
    this.dispatchers.set(channelId, this.makeDispatcher(channelId));
    await fenced.stop();
    await this.leases?.release(channelId);
  }

  /**
   * Tells the dispatchers this hub runs about new ledger changes. A standby dispatcher is not told:
   * it reads everything it is behind on from the ledger when it takes the lease.
   */
  private notifyPushing(changes: readonly LedgerChange[]): void {
    this.metrics.ledgerChanged(changes);
    recordSales(this.sales, changes);
    for (const change of changes) this.lastUnits.stands(change.sku, change.available);
    for (const channelId of this.leased) this.dispatchers.get(channelId)!.notify(changes);
  }

  /** Channels this hub pushes now (holds the lease of). */
  pushing(): string[] {
    return [...this.leased];
  }

  /** Publishes an inbound event to JetStream (dedup by event id). */
  publish(event: InventoryEvent): Promise<PubAck> {
    return this.bus.publishEvent(event);
  }

  /** Called with every committed group's changes (read API, dashboard, tests). Returns an unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every dispatcher has nothing left to push (tests, demo summary). */
  async idle(signal?: AbortSignal): Promise<void> {
    if (!signal) {
      await Promise.all([...this.leased].map((id) => this.dispatchers.get(id)!.idle()));
      return;
    }
    // Every dispatcher listens for the abort: on a signal of the hub's own, so a caller's signal gets one
    // listener however many channels there are (forty would trip Node's leak warning on it).
    const leaving = new AbortController();
    setMaxListeners(this.leased.size + 1, leaving.signal);
    const leave = (): void => leaving.abort(signal.reason);
    if (signal.aborted) leave();
    else signal.addEventListener('abort', leave, { once: true });
    try {
      await Promise.all([...this.leased].map((id) => this.dispatchers.get(id)!.idle(leaving.signal)));
    } finally {
      signal.removeEventListener('abort', leave);
    }
  }

  /** Events received from the stream but not yet committed. */
  backlog(): number {
    return this.applier?.backlog() ?? 0;
  }

  private committed(outcomes: readonly EventOutcome[], events: readonly InventoryEvent[], commitMs: number): void {
    const changes: LedgerChange[] = [];
    const now = Date.now();
    this.metrics.ledgerBatch.observe(commitMs);
    this.metrics.ledgerBatchEvents.observe(events.length);
    outcomes.forEach((outcome, index) => {
      const event = events[index]!;
      if (outcome.status === 'duplicate') {
        this.metrics.duplicates.inc();
        return;
      }
      this.metrics.eventsProcessed.inc({ type: event.type });
      this.metrics.eventToCommit.observe(Math.max(0, now - Date.parse(event.occurredAt)));
      for (const oversell of outcome.oversells) {
        this.metrics.oversells.inc({ channel: oversell.channel });
        this.metrics.oversoldUnits.inc({ channel: oversell.channel }, oversell.shortfall);
        this.logger.warn('oversell detected', { ...oversell });
      }
      for (const line of outcome.rejectedLines) {
        this.metrics.unknownSkuLines.inc({ channel: line.channel });
        this.logger.warn('order line for an unknown SKU recorded', { ...line });
      }
      changes.push(...outcome.changes);
    });
    if (changes.length > 0) {
      this.notifyPushing(changes);
      this.changeFeed?.publish(changes);
    }
    for (const listener of this.listeners) {
      try {
        listener(changes, outcomes);
      } catch (err) {
        this.logger.error('change listener failed', { error: describeError(err) });
      }
    }
  }

  private async deadLetterPush(letter: PushDeadLetter): Promise<void> {
    await this.bus.publishDeadLetter(`push.${letter.channelId}`, { kind: 'push', channelId: letter.channelId, reason: this.secrets.redact(letter.reason), at: letter.at, sku: letter.sku, quantity: letter.quantity, version: letter.version, attempts: letter.attempts });
    this.logger.warn('push dead-lettered', { ...letter });
  }

  private startPollers(intervalMs: number): void {
    const { config } = this.loaded;
    for (const [channelId, loaded] of this.connectors) {
      const poll = loaded.instance.pollOrders?.bind(loaded.instance);
      if (!poll) continue;
      // A queue-fed connector deletes what it returned once it is polled again, so events are
      // stored in JetStream before the next poll, however long that takes: none is lost.
      let unpublished: InventoryEvent[] = [];
      let busy = false;
      const tick = async (): Promise<void> => {
        if (unpublished.length === 0) unpublished = await withDeadline(config.dispatch.pollTimeoutMs, this.abort.signal, poll);
        while (unpublished.length > 0) {
          await this.publish(unpublished[0]!);
          unpublished.shift();
        }
      };
      const timer = setInterval(() => {
        if (busy || this.stopped) return;
        busy = true;
        tick()
          .catch((err: unknown) => this.logger.warn('order poll failed', { channel: channelId, error: describeError(err), unpublished: unpublished.length }))
          .finally(() => (busy = false));
      }, intervalMs);
      timer.unref();
      this.pollers.push(timer);
    }
  }

  async health(): Promise<{ ok: boolean; checks: Record<string, unknown> }> {
    const checks: Record<string, unknown> = {};
    let ok = true;
    try {
      await this.ledger.getLevels(['__healthz__']);
      checks.database = 'ok';
    } catch (err) {
      ok = false;
      checks.database = describeError(err);
    }
    checks.nats = this.bus.nc.isClosed() ? 'closed' : 'ok';
    if (this.bus.nc.isClosed()) ok = false;
    checks.backlog = this.backlog();
    checks.channels = Object.fromEntries([...this.dispatchers].map(([id, d]) => [id, { pushing: this.leased.has(id), ...d.snapshot() }]));
    return { ok, checks };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.pollers) clearInterval(timer);
    if (this.claimTimer) clearInterval(this.claimTimer);
    for (const feature of this.started.splice(0).reverse()) {
      await Promise.resolve()
        .then(() => feature.stop?.())
        .catch((err: unknown) => this.logger.warn('feature failed to stop', { feature: feature.name, error: describeError(err) }));
    }
    await this.changeFeed?.stop().catch(() => undefined);
    await this.applier?.stop().catch(() => undefined);
    await Promise.all([...this.dispatchers.values()].map((d) => d.stop().catch(() => undefined)));
    await this.leases?.close().catch(() => undefined);
    this.abort.abort();
    await this.http?.close().catch(() => undefined);
    for (const loaded of this.connectors.values()) await loaded.instance.close?.().catch(() => undefined);
    await this.bus.close().catch(() => undefined);
    await this.database.close().catch(() => undefined);
  }
}
