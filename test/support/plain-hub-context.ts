import type { ChannelRules } from '../../core/config/config-types.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { DispatcherSnapshot, DispatchSkuStatus } from '../../core/dispatch/dispatch-types.ts';
import type { AlertBoard, BusAccess, ChangeListener, ChannelView, DeadLetterDesk, HubContext, LedgerReads } from '../../core/features/hub-context.ts';
import type { EventOutcome, LedgerChange } from '../../core/ledger/ledger-types.ts';
import { HubMetrics } from '../../core/metrics/hub-metrics.ts';
import type { Logger } from '../../core/sdk.ts';

/** One channel of a plain context: its dispatcher's state is read from these objects at each call. */
export interface PlainChannel {
  id: string;
  rules?: Partial<ChannelRules>;
  /** Changed in place by a test to move the channel along. */
  snapshot?: Partial<DispatcherSnapshot>;
  skus?: Record<string, DispatchSkuStatus>;
}

export interface PlainHubContextOptions {
  /** Config fields over a minimal valid config (nats, database, one `sandbox` channel per plain channel). */
  config?: Record<string, unknown>;
  channels?: PlainChannel[];
  ledger?: Partial<LedgerReads>;
  bus?: Partial<BusAccess>;
  deadLetters?: Partial<DeadLetterDesk>;
  alerts?: AlertBoard;
}

/** A {@link HubContext} made of plain objects and real metrics, for testing a feature's logic without a hub. */
export interface PlainHubContext extends HubContext {
  /** Tells every change listener about a commit, as the hub does after each one. */
  commit(changes: readonly LedgerChange[], outcomes: readonly EventOutcome[]): void;
  /** Change listeners attached now. */
  listeners(): number;
  /** Every line the logger was given. */
  readonly logged: Array<{ level: keyof Logger; msg: string; data?: Record<string, unknown> }>;
}

export function plainHubContext(options: PlainHubContextOptions = {}): PlainHubContext {
  const plain = options.channels ?? [{ id: 'web' }];
  const result = validateConfigObject({
    nats: { servers: ['nats://127.0.0.1:4222'] },
    database: { url: 'postgres://127.0.0.1/unused' },
    channels: plain.map((c) => ({ id: c.id, connector: 'sandbox', options: {}, ...(c.rules ? { rules: c.rules } : {}) })),
    ...options.config,
  });
  if (!result.ok) throw new Error(`plain context config invalid: ${JSON.stringify(result.problems)}`);
  const { config } = result.loaded;

  const logged: PlainHubContext['logged'] = [];
  const logger: Logger = {
    debug: (msg, data) => logged.push({ level: 'debug', msg, data }),
    info: (msg, data) => logged.push({ level: 'info', msg, data }),
    warn: (msg, data) => logged.push({ level: 'warn', msg, data }),
    error: (msg, data) => logged.push({ level: 'error', msg, data }),
  };
  const metrics = new HubMetrics({ processMetrics: false });
  const views: ChannelView[] = [];
  for (const channel of config.channels.filter((c) => c.enabled)) {
    const source = plain.find((c) => c.id === channel.id) ?? { id: channel.id };
    metrics.addChannel(channel.id);
    views.push({
      id: channel.id,
      connector: channel.connector,
      rules: channel.rules,
      pushing: () => true,
      snapshot: () => ({ channelId: channel.id, pending: 0, inFlight: 0, throttledUntil: 0, deadLettered: 0, oldestPendingAt: null, ...source.snapshot }),
      skuStatus: (sku) => source.skus?.[sku],
    });
  }
  const listeners = new Set<ChangeListener>();
  const unavailable = (what: string) => () => Promise.reject(new Error(`${what} is not part of this test`));

  return {
    config,
    logger,
    metrics,
    ledger: {
      readInventory: async () => ({ levels: new Map(), states: [] }),
      listOversells: async () => [],
      isProcessed: async () => false,
      explain: async () => undefined,
      ...options.ledger,
    },
    channels: { list: () => views, get: (id) => views.find((v) => v.id === id) },
    bus: {
      backlog: async () => 0,
      respond: () => {
        throw new Error('the bus is not part of this test');
      },
      ...options.bus,
    },
    deadLetters: {
      list: unavailable('dead-letter list'),
      get: unavailable('dead-letter get'),
      replay: unavailable('dead-letter replay'),
      discard: unavailable('dead-letter discard'),
      depth: async () => ({ events: 0, pushes: {} }),
      ...options.deadLetters,
    },
    alerts: options.alerts ?? { list: () => [], evaluatedAt: null },
    changes: {
      listen(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    commit(changes, outcomes) {
      for (const listener of listeners) listener(changes, outcomes);
    },
    listeners: () => listeners.size,
    logged,
  };
}
