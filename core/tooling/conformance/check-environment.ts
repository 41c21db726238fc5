import type { CheckFailed, CheckSkipped } from './check-outcome.ts';
import type { ThrownRecord } from './recording-instance.ts';
import type {
  ConnectorContext,
  ConnectorDefinition,
  ConnectorInstance,
  SimulatorHandle,
  SimulatorOptions,
  StockUpdate,
} from '../../sdk.ts';

/** What every check may use. Built once by `runConformance`; checks leave the channel without faults. */
export interface CheckEnvironment {
  definition: ConnectorDefinition;
  /** The channel id handed to `create`; webhook events must carry it as `channel`. */
  channelId: string;
  context: ConnectorContext;
  /** The connector's simulator, when running against one; `undefined` against a provided endpoint. */
  simulator: SimulatorHandle | undefined;
  /** The options the simulator was started with (a second one is started from them for the abort check). */
  simulatorOptions: SimulatorOptions | undefined;
  /** The options the channel is created with: the simulator's, or the ones provided. */
  connectorOptions: Record<string, unknown> | undefined;
  /** SKUs the channel lists and the connector knows, for ordinary pushes. At least three. */
  knownSkus: readonly string[];
  /** `maxBatchSize + 1` listed SKUs for the batch check; `undefined` when the channel cannot list that many. */
  batchSkus: readonly string[] | undefined;
  /** Two listed SKUs that simulated shoppers buy in the webhook and pollOrders checks. */
  orderSkus: readonly string[];
  /** Listed SKUs for the per-item fault checks (unknown, locked), used by no other check; empty without a simulator. */
  itemFaultSkus: readonly string[];
  /** The instance `create` made; set by the create check, `undefined` when it failed. */
  instance: ConnectorInstance | undefined;
  /** Validates options as the host does, then calls `create`; the instance is closed when the run ends. */
  createInstance(options: Record<string, unknown>): Promise<ConnectorInstance>;
  /** Starts one more simulator with these options; closed when the run ends. */
  startSimulator(options: SimulatorOptions): Promise<SimulatorHandle>;
  /** Registers something to release when the run ends, even after a failure. */
  onClose(release: () => Promise<void> | void): void;
  /** Every value the connector passed to `context.registerSecret` so far in this run. */
  registeredSecrets: ReadonlySet<string>;
  /** Every error that escaped a connector call so far in this run, in order. */
  thrown: readonly ThrownRecord[];
  /** Updates for `skus` whose quantities differ from anything pushed before in this run. */
  updates(skus: readonly string[]): StockUpdate[];
}

/**
 * One check: resolves its pass detail, or throws {@link CheckFailed} / {@link CheckSkipped}
 * (anything else thrown is a failure). `signal` aborts when the run is aborted or the check times out.
 */
export type Check = (env: CheckEnvironment, signal: AbortSignal) => Promise<string>;
