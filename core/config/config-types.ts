/** A secret kept out of the config file: resolved from the environment at load time. */
export interface SecretRef {
  env: string;
}

/** How a channel turns the ledger quantity into the quantity it shows. */
export interface ChannelRules {
  /** Units held back from this channel (shown = available - reserve). Default 0. */
  reserve: number;
  /** Share of the available stock offered here, 0..1, rounded down. Default 1. */
  share: number;
  /** Never show more than this. Default: no cap. */
  max?: number;
  /** Shows what will be left when the next refresh can land, not what is available now. The config fills it in (off unless enabled); absent here: off. */
  forecast?: ForecastRules;
}

/**
 * A forecast quantity: the channel is shown `rules(available − expected sales before its next refresh
 * can land)`, where the sales rate comes from the recent orders of the SKU (every channel's) and the
 * refresh time from the channel's pace and queue. It trades units hidden for units oversold.
 */
export interface ForecastRules {
  enabled: boolean;
  /** Most of what the rules allow the forecast may hide, 0..1 (1, the default: all of it; 0.5: shows at least half, rounded up). */
  maxHiddenShare: number;
  /**
   * The chance, 0.5 to 0.999, that no more than the units hidden sell before the next refresh lands
   * (sales counted as a Poisson process at the SKU's rate). 0.5 hides the median of the expected sales;
   * higher values add a margin for sales that come in a burst.
   */
  confidence: number;
  /** The time to the next refresh is taken as at least this, ms (covers latency the estimate misses). */
  minHorizonMs: number;
  /** ...and at most this, ms: a channel stalled for minutes does not hide stock for minutes of sales. */
  maxHorizonMs: number;
}

export interface ChannelLimits {
  /** Overrides the connector's declared request rate. */
  perSecond?: number;
  burst?: number;
  /** Lowers (never raises) the connector's batch maximum. */
  maxBatchSize?: number;
  /** In-flight push calls at most. */
  concurrency?: number;
  /** Share of the rate read-backs may use (overrides `dispatch.readShare`). */
  readShare?: number;
  /** Most read-back calls per day (channels with daily call quotas). */
  dailyReads?: number;
  /** Order catch-up poll interval of this channel, ms (overrides `dispatch.catchUpIntervalMs`). */
  catchUpIntervalMs?: number;
  /** `false`: never use the connector's bulk lane (a feed), every change goes per SKU. Default: used when there is one. */
  bulk?: boolean;
}

/**
 * A channel's SKU map kept in a file of its own: `"skus": {"file": "skus/shopify-main.json"}` (or `"listings"`
 * for the connectors that call it that), the path relative to the config file. The file holds one JSON object,
 * SKU → the channel's ids for it; the loader reads it in place of the reference, so connectors never see it.
 */
export interface SkuMapFileRef {
  file: string;
}

export interface ChannelConfig {
  /** Unique channel id, `[a-z0-9][a-z0-9_-]*`; appears in metrics, event ids and webhook routes. */
  id: string;
  /** A built-in connector name (`sandbox`, `shopify`...), a path (relative to the config file) or a package name. */
  connector: string;
  /**
   * Connector options, validated against the connector's own schema; secrets already resolved, and a SKU map
   * given as a {@link SkuMapFileRef} already replaced by the file's contents.
   */
  options: Record<string, unknown>;
  rules: ChannelRules;
  limits: ChannelLimits;
  /** Default true. A disabled channel is neither loaded nor pushed. */
  enabled: boolean;
}

export interface HubConfig {
  nats: {
    servers: string[];
    /** Stream holding inbound events. */
    stream: string;
    /** Stream holding dead letters (invalid events, pushes out of attempts). */
    deadLetterStream: string;
    /** Subject prefix: events go to `<prefix>.in.<type>`, dead letters to `<prefix>.dlq.<kind>`. */
    subjectPrefix: string;
    /** Durable consumer name. */
    consumer: string;
    /** JetStream duplicate window in ms (Nats-Msg-Id dedup). */
    duplicateWindowMs: number;
    replicas: number;
    /** Redelivery time for an unacked event, ms. */
    ackWaitMs: number;
    /** Inbound events older than this leave the stream, ms; 0 = never. Bounds redelivery (processed-event retention). */
    inboundMaxAgeMs: number;
    /** Inbound stream size limit; when full, new events are refused, never old ones dropped. -1 = none. */
    inboundMaxBytes: number;
    /** Dead letters older than this leave their stream, ms; 0 = never. */
    deadLetterMaxAgeMs: number;
    /** Dead-letter stream size limit, oldest dropped first. -1 = none. */
    deadLetterMaxBytes: number;
  };
  database: {
    /** Postgres URL; absent → embedded PGlite (trials only). */
    url?: string;
    /** PGlite data directory when `url` is absent; absent → in memory. */
    dataDir?: string;
    poolSize: number;
  };
  http: {
    host: string;
    port: number;
    /** Bearer tokens for the read API (`read`) and the admin API (`admin`). */
    tokens: Array<{ name?: string; token: string; scope: 'read' | 'admin' | 'metrics' }>;
    /** Whole request (headers and body) deadline, ms. */
    requestTimeoutMs: number;
    /** Idle socket timeout, ms. */
    connectionTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Deadline of a connector's webhook handling (signature, order fetch), ms; 503 past it. */
    webhookTimeoutMs: number;
    /** `/metrics` and `/healthz` need a `metrics` (or `admin`) token. */
    protectMetrics: boolean;
  };
  alerts: AlertSettings;
  ledger: {
    /** Most events applied in one transaction. */
    maxBatchEvents: number;
    /** Optimistic-lock conflicts retried at most this many times before the batch is redelivered. */
    maxConflictRetries: number;
    /** Idempotency records kept at least this many days (never less than the stream can redeliver). */
    processedEventRetentionDays: number;
    /** Audit rows kept this many days; absent = forever. */
    auditRetentionDays?: number;
    /** Interval of the background prune, ms. */
    pruneIntervalMs: number;
  };
  dispatch: {
    /** Attempts per (channel, SKU) change before it is dead-lettered. */
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** Every channel re-reads what it is behind on (dead-lettered included) at this interval. */
    reconcileIntervalMs: number;
    /** Timeout of one push call. */
    pushTimeoutMs: number;
    /** Overall deadline of one `pollOrders` call. */
    pollTimeoutMs: number;
    /** How long after a push timed out its write may still land on the channel. */
    lateWriteWindowMs: number;
    /** Share of each channel's rate that continuous read-back may use, 0..1 (0: off). */
    readShare: number;
    /** How often each channel that can list orders is polled for orders its webhooks may have missed, ms. */
    catchUpIntervalMs: number;
  };
  channels: ChannelConfig[];
}

/** Thresholds evaluated continuously per channel (sync lag, oversells, success rate, dead letters, backlog). */
export interface AlertSettings {
  webhookUrl?: string;
  evaluateIntervalMs: number;
  windowMs: number;
  syncLagP99Ms: number;
  minSuccessRate: number;
  oversell: boolean;
  deadLetterDepth: number;
  /** Fires when read-backs found this many SKUs of a channel drifted within the window (default 1). */
  driftSkus?: number;
  backlog: number;
}

/** A loaded config: validated, defaults applied, secrets resolved, frozen. */
export interface LoadedConfig {
  config: Readonly<HubConfig>;
  /** Absolute path of the config file (connector paths resolve against its folder). */
  path: string;
  dir: string;
  /** Non-fatal notes for the operator (e.g. embedded database). */
  warnings: string[];
  /** Values the config read from the environment (`{"env": ...}`): masked wherever the hub prints or answers. */
  resolvedSecrets?: readonly string[];
}
