import { ChannelDispatcher } from '../../core/dispatch/channel-dispatcher.ts';
import type { ChannelDispatcherOptions } from '../../core/dispatch/channel-dispatcher.ts';
import type { Clock } from '../../core/dispatch/clock.ts';
import type { BulkJobEnd, DispatchObserver, EffectiveLimits, PushDeadLetter } from '../../core/dispatch/dispatch-types.ts';
import { eventLoopTurns, ManualClock } from '../../core/dispatch/manual-clock.ts';
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
  readonly bulkJobs: BulkJobEnd[] = [];
  constructor(readonly clock: Clock) {}
  bulkJobEnded(_channelId: string, job: BulkJobEnd): void {
    this.bulkJobs.push(job);
  }
  confirmed(_channelId: string, sku: string, lagMs: readonly number[], callMs: number): void {
    this.confirmedCalls.push({ sku, lagMs: [...lagMs], callMs });
  }
  attempted(_channelId: string, ok: boolean): void {
    this.attempts.push(ok);
  }
  throttled(_channelId: string, retryAfterMs: number): void {
    this.throttles.push({ retryAfterMs, at: this.clock.now() });
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
  /** The dispatcher's time: moves only when a test (or `settled`/`until`) moves it. */
  clock: ManualClock;
}

export type HarnessOptions<S extends ChannelStateStore> = Partial<Omit<ChannelDispatcherOptions, 'limits' | 'store' | 'clock'>> & {
  limits?: Partial<EffectiveLimits>;
  store?: S;
  /** Share one clock between dispatchers of one test (a restart, a takeover). Default: a fresh one. */
  clock?: ManualClock;
};

/**
 * The store as the dispatcher sees it: every call is counted until it settles, so a clock made by
 * {@link harnessClock} does not move while a real database is still answering.
 */
function countedStore(store: ChannelStateStore, work: Set<Promise<unknown>>): ChannelStateStore {
  return new Proxy(store, {
    get(target, key) {
      const member = Reflect.get(target, key, target) as unknown;
      if (typeof member !== 'function') return member;
      return (...args: unknown[]) => {
        const result = (member as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        const tracked = result.finally(() => work.delete(tracked));
        tracked.catch(() => {});
        work.add(tracked);
        return result;
      };
    },
  });
}

/** A virtual clock that, before moving, lets the event loop run and every counted store call finish. */
export function harnessClock(): ManualClock {
  const work = new Set<Promise<unknown>>();
  const clock = new ManualClock({
    settle: async () => {
      for (;;) {
        await eventLoopTurns();
        if (work.size === 0) return;
        await Promise.allSettled([...work]);
      }
    },
  });
  clockWork.set(clock, work);
  return clock;
}
const clockWork = new WeakMap<ManualClock, Set<Promise<unknown>>>();

const running = new Map<ChannelDispatcher, ManualClock>();

/** A dispatcher on channel `shop` with generous limits and short timers, on a virtual clock, unless told otherwise. */
export function dispatchHarness<S extends ChannelStateStore = MemoryChannelState>(options: HarnessOptions<S> = {}): Harness<S> {
  const clock = options.clock ?? harnessClock();
  const now = (): number => clock.now();
  const store = (options.store ?? new MemoryChannelState()) as S;
  if (store instanceof MemoryChannelState) store.now = now;
  const connector = (options.connector as RecordingConnector | undefined) ?? new RecordingConnector();
  if (connector instanceof RecordingConnector) connector.now = now;
  const observer = new RecordingObserver(clock);
  const letters: PushDeadLetter[] = [];
  const work = clockWork.get(clock) ?? new Set<Promise<unknown>>();
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
    clock,
    store: countedStore(store, work),
    connector,
    limits: { maxBatchSize: 50, perSecond: 1000, burst: 1000, concurrency: 4, compareAndSet: false, ...options.limits },
  });
  running.set(dispatcher, clock);
  return { dispatcher, store, connector, observer, letters, clock };
}

/** Stops every dispatcher the harness made (call from afterEach). */
export async function stopDispatchers(): Promise<void> {
  const all = [...running.keys()];
  running.clear();
  await Promise.all(all.map((d) => d.stop()));
}

/** Virtual time a test may let pass waiting for something before it fails instead of spinning. */
const MAX_VIRTUAL_MS = 3_600_000;

/**
 * Moves the dispatcher's clock from timer to timer until `done` holds. Fails the test when no timer is
 * left to move to, or after an hour of virtual time: a dispatcher that never gets there is a bug.
 */
export async function until(dispatcher: ChannelDispatcher, done: () => boolean | Promise<boolean>, what = 'the condition'): Promise<void> {
  const clock = running.get(dispatcher);
  if (!clock) throw new Error('until: not a dispatcher made by dispatchHarness (or already stopped)');
  const deadline = clock.now() + MAX_VIRTUAL_MS;
  await clock.settle();
  while (!(await done())) {
    if (clock.now() > deadline || !(await clock.runNext())) {
      throw new Error(`${what} never held (virtual time ${clock.now()}): ${JSON.stringify(dispatcher.snapshot())}`);
    }
  }
}

/** Resolves when the dispatcher is idle, moving its clock as far as that takes. */
export async function settled(dispatcher: ChannelDispatcher): Promise<void> {
  let idle = false;
  void dispatcher.idle().then(() => (idle = true));
  await until(dispatcher, () => idle, 'idle');
}
