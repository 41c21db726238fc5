import { LagHistogram } from './lag-histogram.ts';

/** From `at` on, the rules give `value` units for the ledger's available stock (epoch ms). */
export interface AllowedStep {
  at: number;
  value: number;
}

/**
 * Something that changed what one channel shows for one SKU: a write landed (`set`: the channel now
 * shows exactly that), or a shopper bought there (`sold`: the channel took the units off its own count).
 */
export type ShownEvent = { at: number; set: number } | { at: number; sold: number };

/** One SKU on one channel over a run: what the rules gave for the ledger and what the channel showed. */
export interface SkuTimeline {
  /** What the channel showed before the first event. */
  initialShown: number;
  /** What the rules gave before the first step. */
  initialAllowed: number;
  /**
   * Of what the channel showed below the rules at first, the units held back on purpose (the channel had
   * confirmed the ledger's newest version, with a reserve or forecast). Default 0: a shelf still being
   * pushed when the run starts is waiting, not holding back.
   */
  initialWithheld?: number;
  /** Sorted by time (ties: kept in order). */
  allowed: readonly AllowedStep[];
  /** Sorted by time (ties: kept in order). */
  shown: readonly ShownEvent[];
}

/**
 * Where a channel's shelf figures accumulate over its SKUs. Unit-ms and SKU-ms (not seconds) so sums of
 * many short intervals stay exact integers.
 */
export class ShelfTally {
  /** ∫ max(0, shown − allowed) dt: units on show that the ledger no longer had. */
  phantomUnitMs = 0;
  /** ∫ [shown > allowed] dt over SKUs: SKU-time a shopper could buy what was gone. */
  phantomSkuMs = 0;
  /** ∫ max(0, allowed − shown) dt: units the rules allowed that the channel did not show. */
  hiddenUnitMs = 0;
  /**
   * The part of the hidden units the last write left out on purpose: ∫ min(allowed − shown, withheld) dt,
   * `withheld` being how far below the rules (for the ledger as it stood) that write put the channel. A
   * forecast or a reserve holds these back; the rest of the hidden units wait, for the channel's next
   * refresh after a restock, or for the ledger to record a sale the channel already counted.
   */
  heldBackUnitMs = 0;
  /** ∫ allowed dt: the stock the channel could have shown, the base of "share of stock". */
  allowedUnitMs = 0;
  /** Duration of every phantom episode that began in the window (ms), followed to its end. */
  readonly episodes = new LagHistogram(3_600_000);
  /** Episodes still going when the measurement ended (counted at their length so far). */
  openEpisodes = 0;

  merge(other: ShelfTally): void {
    this.phantomUnitMs += other.phantomUnitMs;
    this.phantomSkuMs += other.phantomSkuMs;
    this.hiddenUnitMs += other.hiddenUnitMs;
    this.heldBackUnitMs += other.heldBackUnitMs;
    this.allowedUnitMs += other.allowedUnitMs;
    this.episodes.merge(other.episodes);
    this.openEpisodes += other.openEpisodes;
  }
}

/**
 * Replays one SKU's timeline and adds its figures to `into`. Unit-time is counted inside
 * [`from`, `to`); phantom episodes that begin there are followed until they end or `until`, whichever
 * comes first. Events before `from` only set the state. At one instant the ledger moves first, then the
 * channel: a write that lands as the ledger changes is judged against the new ledger.
 */
export function replaySku(timeline: SkuTimeline, window: { from: number; to: number; until: number }, into: ShelfTally): void {
  const { from, to, until } = window;
  let allowed = timeline.initialAllowed;
  let shown = timeline.initialShown;
  let withheld = Math.max(0, Math.min(timeline.initialWithheld ?? 0, allowed - shown));
  let episodeStart: number | null = null;
  let at = -Infinity;
  let i = 0;
  let j = 0;
  const steps = timeline.allowed;
  const events = timeline.shown;

  const integrate = (until: number): void => {
    const start = Math.max(at, from);
    const end = Math.min(until, to);
    if (end <= start) return;
    const dt = end - start;
    into.allowedUnitMs += allowed * dt;
    if (shown > allowed) {
      into.phantomUnitMs += (shown - allowed) * dt;
      into.phantomSkuMs += dt;
    } else if (shown < allowed) {
      into.hiddenUnitMs += (allowed - shown) * dt;
      into.heldBackUnitMs += Math.min(allowed - shown, withheld) * dt;
    }
  };
  const judge = (now: number): void => {
    const phantom = shown > allowed;
    if (phantom && episodeStart === null && now < to) episodeStart = Math.max(now, from);
    else if (!phantom && episodeStart !== null) {
      if (now >= from) into.episodes.add(now - episodeStart);
      episodeStart = null;
    }
  };

  let judging = false;
  const startJudging = (): void => {
    if (judging) return;
    judging = true;
    judge(from);
  };
  while (i < steps.length || j < events.length) {
    const next = Math.min(steps[i]?.at ?? Infinity, events[j]?.at ?? Infinity);
    if (next > until) break;
    // The state as it stood at `from` decides whether an episode was already going then.
    if (next > from) startJudging();
    integrate(next);
    at = next;
    while (i < steps.length && steps[i]!.at === next) allowed = steps[i++]!.value;
    while (j < events.length && events[j]!.at === next) {
      const event = events[j++]!;
      if ('set' in event) {
        shown = event.set;
        withheld = Math.max(0, allowed - event.set);
      } else shown = Math.max(0, shown - event.sold);
    }
    if (next < from) continue;
    if (judging) judge(next);
    else startJudging();
  }
  startJudging();
  integrate(to);
  if (episodeStart !== null) {
    into.episodes.add(Math.max(0, until - episodeStart));
    into.openEpisodes += 1;
  }
}

/**
 * The least a channel must hide, on average, to never show more than will be left when its next
 * refresh lands: units (not unit-seconds). SKU i selling vᵢ units/s and refreshed every Tᵢ s must be
 * shown vᵢTᵢ below the ledger right after a refresh, vᵢTᵢ/2 on average; with C refreshes per second
 * (Σ 1/Tᵢ = C) the sum Σ vᵢTᵢ/2 is least for Tᵢ ∝ 1/√vᵢ, and is then (Σᵢ √vᵢ)² / (2C).
 * 0 for a channel with no sales; Infinity for one that cannot refresh at all.
 */
export function hiddenUnitsBound(ratesPerSecond: Iterable<number>, refreshesPerSecond: number): number {
  let rootSum = 0;
  for (const v of ratesPerSecond) if (v > 0) rootSum += Math.sqrt(v);
  if (rootSum === 0) return 0;
  if (!(refreshesPerSecond > 0)) return Infinity;
  return (rootSum * rootSum) / (2 * refreshesPerSecond);
}
