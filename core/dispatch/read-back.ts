import type { ChannelRules } from '../config/config-types.ts';
import { describeError } from '../internal.ts';
import type { ConnectorInstance, Logger } from '../sdk.ts';
import { shownQuantity } from './dispatch-types.ts';
import type { SkuPushState } from './sku-push-state.ts';

/** What the channel was asked to show for one SKU, at the ledger version it reflects. */
export interface ReadBackEntry {
  sku: string;
  version: number;
  quantity: number;
}

/**
 * Reads back what the channel shows for `entries` and returns those it shows exactly as asked: each is
 * proved without a write (and without spending an eBay revision). A SKU the channel reports otherwise,
 * or not at all, is left out: it must be pushed again. Resolves with none when the connector cannot read
 * back; rejects when the read fails (the caller pushes again instead).
 */
export async function provenByReadBack<E extends ReadBackEntry>(connector: ConnectorInstance, entries: readonly E[], signal: AbortSignal): Promise<E[]> {
  if (!connector.fetchQuantities || entries.length === 0) return [];
  const shown: unknown = await connector.fetchQuantities(
    entries.map((e) => e.sku),
    signal,
  );
  if (!(shown instanceof Map)) return [];
  return entries.filter((e) => shown.get(e.sku) === e.quantity);
}

/** What settling a closed late-write window by a read-back needs from the dispatcher. */
export interface ReadBackSettling {
  rules: Readonly<ChannelRules>;
  /** The read with the call deadline; resolves null when the dispatcher stopped meanwhile. */
  read<E extends ReadBackEntry>(entries: readonly E[]): Promise<E[] | null>;
  recordConfirmed(entries: ReadonlyArray<{ state: SkuPushState; version: number; quantity: number }>, callMs: number): Promise<boolean>;
  logger: Logger;
}

/**
 * Reads back what the channel shows for SKUs whose late-write window closed: a SKU showing what the
 * ledger asks for is confirmed without a write; any other is pushed again (and that push, sent after
 * the window, proves itself). A failed read-back falls back to the push.
 */
export async function settleByReadBack(states: readonly SkuPushState[], by: ReadBackSettling): Promise<void> {
  const entries = states.map((state) => ({ state, sku: state.sku, version: state.version, quantity: shownQuantity(by.rules, state.available) }));
  let proven: typeof entries = [];
  try {
    const read = await by.read(entries);
    if (read === null) return;
    proven = read;
  } catch (err) {
    by.logger.warn('dispatch: reading back what the channel shows failed; pushing again instead', { error: describeError(err) });
  }
  // The window is over: from now on a push's "ok" proves itself, whatever the read-back said.
  for (const { state } of entries) state.lateWrites = null;
  // A SKU the read-back did not prove shows something else (a late write landed) or could not be read:
  // what was confirmed before is no longer known, so it must be pushed, never skipped as "unchanged".
  const provenSkus = new Set(proven.map(({ sku }) => sku));
  for (const { state, sku } of entries) if (!provenSkus.has(sku)) state.confirmedQuantity = null;
  if (proven.length > 0) await by.recordConfirmed(proven, 0);
}
