import { ChannelDispatcher } from '../../core/dispatch/channel-dispatcher.ts';
import type { ChannelDispatcherOptions } from '../../core/dispatch/channel-dispatcher.ts';
import type { DispatchObserver, EffectiveLimits, PushDeadLetter } from '../../core/dispatch/dispatch-types.ts';
import type { ChannelStateStore } from '../../core/ledger/ledger-types.ts';
import type { Logger } from '../../core/sdk.ts';
import { MemoryChannelState } from './memory-channel-state.ts';
import { RecordingConnector } from './recording-connector.ts';

export const CHANNEL = 'shop';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Everything the dispatcher told its observer, in order. */
export class RecordingObserver implements DispatchObserver {
  readonly confirmedCalls: Array<{ sku: string; lagMs: readonly number[]; callMs: number }> = [];
  readonly attempts: boolean[] = [];
  readonly throttles: Array<{ retryAfterMs: number; at: number }> = [];
  readonly letters: PushDeadLetter[] = [];
  confirmed(_channelId: string, sku: string, lagMs: readonly number[], callMs: number): void {
    this.confirmedCalls.push({ sku, lagMs: [...lagMs], callMs });
  }
  attempted(_channelId: string, ok: boolean): void {
    this.attempts.push(ok);
  }
  throttled(_channelId: string, retryAfterMs: number): void {
    this.throttles.push({ retryAfterMs, at: Date.now() });
  }
  deadLettered(_channelId: string, letter: PushDeadLetter): void {
    this.letters.push(letter);
  }
}

export interface Harness<S extends ChannelStateStore = MemoryChannelState> {
  dispatcher: ChannelDispatcher;
  store: S;
  connector: RecordingConnector;
  observer: RecordingObserver;
  /** Dead letters handed to `deadLetter`. */
  letters: PushDeadLetter[];
}

export type HarnessOptions<S extends ChannelStateStore> = Partial<Omit<ChannelDispatcherOptions, 'limits' | 'store'>> & {
  limits?: Partial<EffectiveLimits>;
  store?: S;
};

const running = new Set<ChannelDispatcher>();

/** A dispatcher on channel `shop` with generous limits and short timers, unless told otherwise. */
export function dispatchHarness<S extends ChannelStateStore = MemoryChannelState>(options: HarnessOptions<S> = {}): Harness<S> {
  const store = (options.store ?? new MemoryChannelState()) as S;
  const connector = (options.connector as RecordingConnector | undefined) ?? new RecordingConnector();
  const observer = new RecordingObserver();
  const letters: PushDeadLetter[] = [];
  const dispatcher = new ChannelDispatcher({
    channelId: CHANNEL,
    rules: { reserve: 0, share: 1 },
    maxAttempts: 5,
    backoffBaseMs: 10,
    backoffMaxMs: 100,
    reconcileIntervalMs: 60_000,
    pushTimeoutMs: 5_000,
    lateWriteWindowMs: 200,
    observer,
    logger: silentLogger,
    deadLetter: async (letter) => {
      letters.push(letter);
    },
    ...options,
    store,
    connector,
    limits: { maxBatchSize: 50, perSecond: 1000, burst: 1000, concurrency: 4, compareAndSet: false, ...options.limits },
  });
  running.add(dispatcher);
  return { dispatcher, store, connector, observer, letters };
}

/** Stops every dispatcher the harness made (call from afterEach). */
export async function stopDispatchers(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((d) => d.stop()));
}

/** Resolves when the dispatcher is idle; fails the test instead of hanging when it never gets there. */
export async function settled(dispatcher: ChannelDispatcher, timeoutMs = 5_000): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  await dispatcher.idle(signal);
  if (signal.aborted) throw new Error(`dispatcher not idle after ${timeoutMs} ms: ${JSON.stringify(dispatcher.snapshot())}`);
}
