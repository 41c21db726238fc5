import { memoryConnectorState } from '../../plugins/memory-connector-state.ts';
import { validateConnectorOptions } from '../../plugins/validate-connector-options.ts';
import {
  describeError,
  type ConnectorContext,
  type ConnectorDefinition,
  type ConnectorInstance,
  type Logger,
  type SimulatorHandle,
  type SimulatorOptions,
  type StockUpdate,
} from '../../sdk.ts';
import type { Check, CheckEnvironment } from './check-environment.ts';
import { CheckFailed, CheckSkipped, fail } from './check-outcome.ts';
import { checkAbort } from './checks/abort-check.ts';
import { checkBulkLane } from './checks/bulk-lane-check.ts';
import { checkContract } from './checks/contract-check.ts';
import { checkEchoedErrors } from './checks/echo-errors-check.ts';
import { checkErrorCodes } from './checks/error-codes-check.ts';
import { checkHang, checkIdempotentRePush, checkOutage, checkServerError, checkThrottle } from './checks/fault-checks.ts';
import { checkItemLocked, checkItemUnknown } from './checks/item-fault-checks.ts';
import { checkListOrders } from './checks/list-orders-check.ts';
import { checkMalformedWebhook } from './checks/malformed-webhook-check.ts';
import { checkDeclaredRate } from './checks/rate-limit-check.ts';
import { checkOptionsSchema } from './checks/options-schema-check.ts';
import { checkPollOrders } from './checks/poll-orders-check.ts';
import { checkBatchMaximum, checkPerItemResults, checkPushSets } from './checks/push-checks.ts';
import { checkWebhook } from './checks/webhook-check.ts';
import { CHECK_NAMES, type ConformanceCheckResult, type ConformanceReport } from './conformance-report.ts';
import { recordThrown, type ThrownRecord } from './recording-instance.ts';

export interface ConformanceOptions {
  /**
   * Options for the connector's own simulator (used when the definition has one and no
   * `connectorOptions` are given). Merged over the defaults: no latency, a rate limit high enough
   * that only the throttle check is throttled, and every SKU the checks use listed.
   */
  simulator?: SimulatorOptions;
  /** Options pointing at a provided endpoint instead of the simulator; checks that need a simulator are skipped. */
  connectorOptions?: Record<string, unknown>;
  /** SKUs the channel lists. Needed with `connectorOptions` (pushes write to these); defaults to the kit's own with a simulator. */
  skus?: string[];
  /** Aborts the run: the current check is abandoned, the rest are skipped, everything is closed. */
  signal?: AbortSignal;
  /** Called as each check ends, in order, before the next starts. */
  onCheck?: (result: ConformanceCheckResult) => void;
  /** Longest one check may take before it fails as hung. Default 20 000 ms. */
  checkTimeoutMs?: number;
}

/** The batch check needs `maxBatchSize + 1` listed SKUs; beyond this a simulator listing is impractical and the check is skipped. */
const MAX_LISTED_SKUS = 10_000;
const DEFAULT_SKUS = ['CONF-SKU-1', 'CONF-SKU-2', 'CONF-SKU-3'];
const ORDER_SKUS = ['CONF-ORDER-1', 'CONF-ORDER-2'];
/** Listed SKUs only the per-item fault checks use: a connector that remembers an item as unknown or locked spoils no other check. */
const ITEM_FAULT_SKUS = ['CONF-ITEM-UNKNOWN', 'CONF-ITEM-LOCKED'];
const STARTING_QUANTITY = 100;
const CLOSE_TIMEOUT_MS = 5000;

const CHECKS: ReadonlyArray<readonly [string, Check]> = [
  [CHECK_NAMES.contract, checkContract],
  [CHECK_NAMES.optionsSchema, checkOptionsSchema],
  [CHECK_NAMES.create, checkCreate],
  [CHECK_NAMES.pushSets, checkPushSets],
  [CHECK_NAMES.batchMaximum, checkBatchMaximum],
  [CHECK_NAMES.perItem, checkPerItemResults],
  [CHECK_NAMES.itemUnknown, checkItemUnknown],
  [CHECK_NAMES.itemLocked, checkItemLocked],
  [CHECK_NAMES.throttle, checkThrottle],
  [CHECK_NAMES.outage, checkOutage],
  [CHECK_NAMES.serverError, checkServerError],
  [CHECK_NAMES.echoErrors, checkEchoedErrors],
  [CHECK_NAMES.hang, checkHang],
  [CHECK_NAMES.idempotent, checkIdempotentRePush],
  [CHECK_NAMES.abort, checkAbort],
  [CHECK_NAMES.declaredRate, checkDeclaredRate],
  [CHECK_NAMES.webhook, checkWebhook],
  [CHECK_NAMES.malformedWebhook, checkMalformedWebhook],
  [CHECK_NAMES.pollOrders, checkPollOrders],
  [CHECK_NAMES.listOrders, checkListOrders],
  [CHECK_NAMES.bulk, checkBulkLane],
  // Last: it judges every error the connector threw in the checks before it.
  [CHECK_NAMES.errorCodes, checkErrorCodes],
];

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs the conformance suite against one connector: every check runs even when an earlier one failed,
 * and every instance, simulator and server the run started is closed before it resolves.
 * Never throws for a misbehaving connector; its faults are in the report.
 */
export async function runConformance<Options>(plugin: ConnectorDefinition<Options>, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  // The checks handle options as plain JSON, the way the host does before `create` sees them.
  const definition = plugin as unknown as ConnectorDefinition;
  const connector = typeof definition?.name === 'string' && definition.name !== '' ? definition.name : '(unnamed)';
  const channelId = `conformance-${connector.replace(/[^a-z0-9_-]+/gi, '-')}`;
  const releases: Array<() => Promise<void> | void> = [];
  const host = new AbortController();
  const registeredSecrets = new Set<string>();
  const registerSecret = (value: string): void => {
    if (typeof value === 'string') registeredSecrets.add(value);
  };
  const context: ConnectorContext = { channelId, logger: silentLogger, signal: host.signal, state: memoryConnectorState(), registerSecret };
  const checks: ConformanceCheckResult[] = [];
  const thrown: ThrownRecord[] = [];

  const againstEndpoint = options.connectorOptions !== undefined;
  const maxBatch = definition?.capabilities?.maxBatchSize;
  const batchSkus =
    !againstEndpoint && Number.isInteger(maxBatch) && maxBatch >= 1 && maxBatch + 1 <= MAX_LISTED_SKUS
      ? Array.from({ length: maxBatch + 1 }, (_, i) => `CONF-BATCH-${String(i + 1).padStart(4, '0')}`)
      : undefined;
  const knownSkus = options.skus ?? (againstEndpoint ? [] : DEFAULT_SKUS);

  let simulator: SimulatorHandle | undefined;
  let simulatorOptions: SimulatorOptions | undefined;
  let connectorOptions = options.connectorOptions;
  let setupProblem: string | undefined;
  if (!againstEndpoint) {
    if (typeof definition?.simulator === 'function') {
      const listed = [...new Set([...knownSkus, ...ORDER_SKUS, ...ITEM_FAULT_SKUS, ...(batchSkus ?? [])])];
      simulatorOptions = {
        latency: { p50: 0, p99: 0 },
        rateLimit: { perSecond: 10_000, burst: 10_000 },
        ...options.simulator,
        skus: { ...Object.fromEntries(listed.map((sku) => [sku, STARTING_QUANTITY])), ...options.simulator?.skus },
      };
      try {
        const started = await definition.simulator(simulatorOptions);
        simulator = started as SimulatorHandle;
        releases.push(() => started.close());
        connectorOptions = started.connectorOptions(listed) as Record<string, unknown>;
      } catch (err) {
        setupProblem = `the simulator did not start: ${describeError(err)}`;
      }
    } else {
      setupProblem = 'the definition has no simulator and no connectorOptions were given: nothing to create the channel against';
    }
  }

  let quantity = 10;
  let version = 0;
  const env: CheckEnvironment = {
    definition,
    channelId,
    context,
    simulator,
    simulatorOptions,
    connectorOptions,
    knownSkus,
    batchSkus: simulator ? batchSkus : undefined,
    orderSkus: ORDER_SKUS,
    itemFaultSkus: simulator ? ITEM_FAULT_SKUS : [],
    instance: undefined,
    thrown,
    registeredSecrets,
    async createInstance(raw) {
      if (setupProblem) fail(setupProblem);
      const valid = validateConnectorOptions(definition, raw);
      if (!valid.ok) fail(`options refused by optionsSchema: ${valid.problems.map((p) => `${p.path} ${p.message}`).join(', ')}`);
      // Each instance is a channel of its own (another simulator, other credentials): it gets its own durable
      // state, so one instance's rotated refresh token is never offered to another instance's simulator.
      const instance = await definition.create(valid.options as Record<string, unknown>, { ...context, state: memoryConnectorState() });
      if (typeof instance?.close === 'function') releases.push(() => instance.close?.());
      return recordThrown(instance, thrown);
    },
    async startSimulator(simOptions) {
      if (typeof definition.simulator !== 'function') fail('the definition has no simulator');
      const started = (await definition.simulator(simOptions)) as SimulatorHandle;
      releases.push(() => started.close());
      return started;
    },
    onClose(release) {
      releases.push(release);
    },
    updates(skus): StockUpdate[] {
      // A fresh quantity per item, so a check never passes because the channel already showed the value.
      return skus.map((sku) => ({ sku, quantity: ++quantity, version: ++version }));
    },
  };

  try {
    for (const [name, check] of CHECKS) {
      const result = options.signal?.aborted
        ? { name, status: 'skip' as const, detail: 'the run was aborted', ms: 0 }
        : await runCheck(name, check, env, options);
      checks.push(result);
      options.onCheck?.(result);
    }
  } finally {
    host.abort();
    for (const release of releases.reverse()) await closeQuietly(release);
  }
  return { connector, checks, passed: checks.every((c) => c.status !== 'fail') };
}

async function checkCreate(env: CheckEnvironment): Promise<string> {
  if (!env.connectorOptions) fail('no options to create the channel with');
  const instance: ConnectorInstance = await env.createInstance(env.connectorOptions);
  if (typeof instance?.push !== 'function') fail('create resolved an object without a push function');
  const optional = (['handleWebhook', 'pollOrders', 'fetchQuantities', 'listOrders', 'listListings', 'close'] as const).filter((m) => instance[m] !== undefined);
  const notFunctions = optional.filter((m) => typeof instance[m] !== 'function');
  if (notFunctions.length > 0) fail(`${notFunctions.join(', ')} must be functions when present`);
  env.instance = instance;
  return `instance with push${optional.length > 0 ? `, ${optional.join(', ')}` : ''}`;
}

async function runCheck(name: string, check: Check, env: CheckEnvironment, options: ConformanceOptions): Promise<ConformanceCheckResult> {
  const timeoutMs = options.checkTimeoutMs ?? 20_000;
  const controller = new AbortController();
  const forward = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forward, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  try {
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort(new Error(`check "${name}" timed out`));
        reject(new CheckFailed(`did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      controller.signal.addEventListener('abort', () => reject(new CheckSkipped('the run was aborted')), { once: true });
    });
    const detail = await Promise.race([check(env, controller.signal), stopped]);
    return { name, status: 'pass', detail, ms: Math.round(performance.now() - started) };
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    if (err instanceof CheckSkipped) return { name, status: 'skip', detail: err.message, ms };
    if (err instanceof CheckFailed) return { name, status: 'fail', detail: err.message, ms };
    const kind = (err as { name?: unknown } | null)?.name;
    return { name, status: 'fail', detail: `threw ${typeof kind === 'string' ? kind : 'a value'}: ${describeError(err)}`, ms };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', forward);
    // A check that failed halfway must not leave its fault behind for the next one.
    env.simulator?.setFault(null);
  }
}

async function closeQuietly(release: () => Promise<void> | void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([Promise.resolve().then(release), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
  } catch {
    // A connector that fails to close cannot spoil the report; the checks already said what they saw.
  } finally {
    clearTimeout(timer);
  }
}
