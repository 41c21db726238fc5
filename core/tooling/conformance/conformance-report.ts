/** How one conformance check ended. `skip`: it does not apply (optional member absent, no simulator). */
export type CheckStatus = 'pass' | 'fail' | 'skip';

/** The outcome of one conformance check. */
export interface ConformanceCheckResult {
  /** One of {@link CHECK_NAMES}. */
  name: string;
  status: CheckStatus;
  /** What was observed: on failure, what the connector did and what the contract asks instead. */
  detail: string;
  /** Wall time the check took. */
  ms: number;
}

/** Everything `runConformance` found about one connector. */
export interface ConformanceReport {
  /** The connector's `name` (or `(unnamed)` when it has none). */
  connector: string;
  /** Every check, in the order it ran; none is left out, a check that could not run is `skip` or `fail`. */
  checks: ConformanceCheckResult[];
  /** True when no check failed (skipped checks do not count against the connector). */
  passed: boolean;
}

/** The checks, in the order they run. Names are stable: tests and CI logs refer to them. */
export const CHECK_NAMES = {
  contract: 'contract',
  optionsSchema: 'options schema',
  create: 'create',
  pushSets: 'push sets quantities',
  batchMaximum: 'batch maximum honoured',
  perItem: 'per-item results',
  itemUnknown: 'per-item unknown id',
  itemLocked: 'per-item locked',
  throttle: 'throttle: retry with delay',
  outage: 'outage: retryable',
  serverError: 'server error: retryable',
  echoErrors: 'echoed errors: no credential in the clear',
  hang: 'hanging API: settles on abort',
  idempotent: 'idempotent re-push',
  abort: 'abort signal honoured',
  declaredRate: 'declared rate within enforced limit',
  webhook: 'webhook',
  malformedWebhook: 'signed malformed webhook',
  pollOrders: 'pollOrders',
  listOrders: 'listOrders: missed orders caught up',
  bulk: 'bulk lane: one result per item',
  errorCodes: 'errors carry catalogue codes',
} as const;

export type CheckName = (typeof CHECK_NAMES)[keyof typeof CHECK_NAMES];
