import type { ChannelConfig, ChannelRules } from '../../config/config-types.ts';
import { shownQuantity } from '../../dispatch/dispatch-types.ts';
import { forecastBand, showsAsIntended } from '../../dispatch/forecast.ts';
import type { InventoryView } from '../../ledger/inventory-view.ts';
import type { LedgerHistory } from '../../ledger/ledger-history.ts';
import type { AuditEntry } from '../../ledger/ledger-records.ts';
import type { ReadBackStore } from '../../ledger/ledger-types.ts';

/** One ledger change of the SKU, and what it meant for the channel. */
export interface WhyStep {
  eventId: string;
  eventType: string;
  /** The channel the event came from (`manual` for the CLI). */
  sourceChannel: string;
  before: number;
  after: number;
  /** Ledger version after the change. */
  version: number;
  /** Units a stock adjustment could not remove (the ledger never goes below zero). */
  clamped: number;
  /** What this channel's rules make of `after`. */
  shownAfter: number;
  /** Units the order asked for beyond the ledger, when it oversold. */
  oversold: number;
  occurredAt: string;
  committedAt: string;
}

/**
 * - `not-listed`: the channel said it has no listing for the SKU; it is not pushed there until the
 *   channel's config changes, an operator retries it, or an hour has passed;
 * - `unverified`: a write was sent and may still land on the channel (it timed out, or its hub died):
 *   what the channel shows is read back or pushed again once that can no longer happen;
 * - `in-sync`: the channel confirmed the ledger's current version;
 * - `pending`: newer changes wait for a push;
 * - `dead-lettered`: newer changes ran out of attempts (they come back with the next change, a replay or the reconcile pass);
 * - `never-pushed`: the channel has confirmed nothing for this SKU yet.
 */
export type WhyState = 'in-sync' | 'pending' | 'dead-lettered' | 'never-pushed' | 'not-listed' | 'unverified';

/** Why a channel shows the number it shows for a SKU: the answer of `stockrelay why`. */
export interface WhyReport {
  channelId: string;
  sku: string;
  connector: string;
  rules: ChannelRules;
  /** The ledger now; null when the ledger does not know the SKU. */
  ledger: { available: number; version: number; updatedAt: string } | null;
  /** What the channel confirmed last; `version` 0 when it confirmed nothing. */
  confirmed: { quantity: number | null; version: number; at: string | null };
  /** How the rules turn the available quantity of the confirmed version into the shown one. */
  derivation: {
    /** Ledger quantity at the confirmed version (null when its audit row is gone or nothing was confirmed). */
    available: number | null;
    formula: string;
    /** What the rules give for `available`. */
    expected: number | null;
    /**
     * False when the channel reported showing a number the rules (and the forecast) cannot give (a
     * compare-and-set refusal or an edit on the channel). A forecast quantity below `expected` matches.
     */
    matches: boolean | null;
    /** The forecast part of the formula, when the channel has a forecast; null without one. */
    forecast: WhyForecast | null;
  };
  state: WhyState;
  deadLettered: { at: string; lastError: string | null } | null;
  /** The channel's "no listing for this SKU" answer, when it gave one. */
  notListed: { at: string; reason: string } | null;
  /** Until when a write sent earlier may still land on the channel (ISO time), or null. */
  unverifiedUntil: string | null;
  /**
   * What the channel itself showed when last read back (reconciliation), and when; null when never read back.
   * `matchesConfirmed` is false when it showed other than what it confirmed (an edit behind the hub's back, or a
   * newer push it had not applied yet at that time).
   */
  readBack: { shown: number; at: string; matchesConfirmed: boolean | null } | null;
  /** The changes up to the confirmed version, oldest first (the newest `limit` of them). */
  chain: WhyStep[];
  /** Earlier changes exist that `chain` leaves out. */
  chainTruncated: boolean;
  /** Changes after the confirmed version, oldest first: what the channel has yet to show. */
  pending: WhyStep[];
  pendingTruncated: boolean;
}

/** How a forecast lowered what the channel shows. */
export interface WhyForecast {
  /** The forecast written out, with the numbers filled in when the available quantity is known. */
  formula: string;
  maxHiddenShare: number;
  /** The least the forecast may show for the available quantity (what the rules allow less the most it may hide). */
  lowest: number | null;
  /** Units the confirmed quantity holds back below what the rules allow (sales expected before the next refresh). */
  hidden: number | null;
}

/** The ledger's read models `why` answers from (a `Ledger` has both). */
export interface WhyReads {
  inventory: Pick<InventoryView, 'getLevel' | 'getChannelStates'>;
  history: Pick<LedgerHistory, 'listSkuChanges' | 'oversoldByEvent'>;
  /** Where read-backs are kept; without it the report carries none. */
  readBacks?: Pick<ReadBackStore, 'lastReads'>;
}

export interface ExplainOptions {
  /** Most steps listed in the chain and in the pending list each (default 20). */
  limit?: number;
}

/**
 * Explains, from the audit trail and the stored channel state, the quantity a channel shows for a SKU:
 * the confirmed push, the ledger version it reflects, the rules that turned the ledger's quantity into
 * the shown one, the events that led there, and what is still pending. Reads only; never calls the channel.
 * Resolves undefined when neither the ledger nor the channel knows the SKU.
 */
export async function explainChannelQuantity(
  reads: WhyReads,
  channel: Pick<ChannelConfig, 'id' | 'connector' | 'rules'>,
  sku: string,
  options: ExplainOptions = {},
): Promise<WhyReport | undefined> {
  const limit = Math.max(1, Math.floor(options.limit ?? 20));
  const [level, [state], [lastRead]] = await Promise.all([
    reads.inventory.getLevel(sku),
    reads.inventory.getChannelStates(channel.id, [sku]),
    reads.readBacks ? reads.readBacks.lastReads(sku, channel.id) : Promise.resolve([]),
  ]);
  if (!level && (!state || state.pushedQuantity === null)) return undefined;
  const confirmedVersion = state?.pushedVersion ?? 0;

  const [chainRows, pendingRows, oversold] = await Promise.all([
    reads.history.listSkuChanges(sku, { toVersion: confirmedVersion, limit: limit + 1, newestFirst: true }),
    reads.history.listSkuChanges(sku, { fromVersion: confirmedVersion + 1, limit: limit + 1, newestFirst: false }),
    reads.history.oversoldByEvent(sku),
  ]);
  const step = (change: AuditEntry): WhyStep => ({
    eventId: change.eventId,
    eventType: change.eventType,
    sourceChannel: change.channel,
    before: change.before,
    after: change.after,
    version: change.version,
    clamped: change.clamped,
    shownAfter: shownQuantity(channel.rules, change.after),
    oversold: oversold.get(change.eventId) ?? 0,
    occurredAt: change.occurredAt.toISOString(),
    committedAt: change.createdAt.toISOString(),
  });
  const chain = chainRows.slice(0, limit).reverse().map(step);
  const pending = pendingRows.slice(0, limit).map(step);

  const reflected = confirmedVersion > 0 ? chain.find((s) => s.version === confirmedVersion) : undefined;
  const available = reflected?.after ?? null;
  const expected = available === null ? null : shownQuantity(channel.rules, available);
  const quantity = state?.pushedQuantity ?? null;
  const ledgerVersion = level?.version ?? 0;

  const writeUntil = state?.writeUntil && state.writeUntil.getTime() > Date.now() ? state.writeUntil : null;
  let whyState: WhyState;
  if (state?.notListed) whyState = 'not-listed';
  else if (writeUntil && confirmedVersion < ledgerVersion) whyState = 'unverified';
  else if (confirmedVersion === 0) whyState = 'never-pushed';
  else if (confirmedVersion >= ledgerVersion) whyState = 'in-sync';
  else whyState = state?.deadLetteredAt ? 'dead-lettered' : 'pending';

  return {
    channelId: channel.id,
    sku,
    connector: channel.connector,
    rules: { ...channel.rules },
    ledger: level ? { available: level.available, version: level.version, updatedAt: level.updatedAt.toISOString() } : null,
    confirmed: { quantity, version: confirmedVersion, at: state?.confirmedAt?.toISOString() ?? null },
    derivation: {
      available,
      formula: ruleFormula(channel.rules, available),
      expected,
      matches: available === null || quantity === null ? null : showsAsIntended(channel.rules, available, quantity),
      forecast: forecastPart(channel.rules, available, quantity),
    },
    state: whyState,
    deadLettered: state?.deadLetteredAt ? { at: state.deadLetteredAt.toISOString(), lastError: state.lastError } : null,
    notListed: state?.notListed ? { at: state.notListed.at.toISOString(), reason: state.notListed.reason } : null,
    unverifiedUntil: writeUntil ? writeUntil.toISOString() : null,
    readBack: lastRead ? { shown: lastRead.shown, at: lastRead.readAt.toISOString(), matchesConfirmed: quantity === null ? null : lastRead.shown === quantity } : null,
    chain,
    chainTruncated: chainRows.length > limit,
    pending,
    pendingTruncated: pendingRows.length > limit,
  };
}

/** The rules written out as arithmetic, with the numbers filled in when `available` is known. */
export function ruleFormula(rules: ChannelRules, available: number | null): string {
  const a = available === null ? 'available' : String(available);
  let formula = rules.share === 1 ? a : `floor(${a} × ${rules.share})`;
  if (rules.reserve !== 0) formula = `${formula} − ${rules.reserve}`;
  if (rules.max !== undefined) formula = `min(${formula}, ${rules.max})`;
  formula = `max(0, ${formula})`;
  return available === null ? formula : `${formula} = ${shownQuantity(rules, available)}`;
}

/**
 * The forecast part of the formula: the channel is shown what the rules give for what will be left when
 * its next refresh can land, never below what the bound lets it hide. The sales rate and queue it used
 * lived in the dispatcher's memory; what is stored is the quantity it showed, so `hidden` is the difference.
 */
export function forecastPart(rules: ChannelRules, available: number | null, quantity: number | null): WhyForecast | null {
  const forecast = rules.forecast;
  if (!forecast?.enabled) return null;
  const share = `${Math.round(forecast.maxHiddenShare * 1000) / 10} %`;
  if (available === null) {
    return {
      formula: `max(lowest, rules(available − sales rate × time to the channel's next refresh)), lowest = what the rules allow less at most ${share} of it`,
      maxHiddenShare: forecast.maxHiddenShare,
      lowest: null,
      hidden: null,
    };
  }
  const { lowest, allowed } = forecastBand(rules, available);
  const hidden = quantity === null || quantity > allowed || quantity < lowest ? null : allowed - quantity;
  return {
    formula: `max(${lowest}, rules(${available} − sales rate × time to the channel's next refresh)): the rules allow ${allowed}, the forecast may hide at most ${share} of it${hidden === null ? '' : `; it hid ${hidden}`}`,
    maxHiddenShare: forecast.maxHiddenShare,
    lowest,
    hidden,
  };
}
