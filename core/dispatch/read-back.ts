import type { ConnectorInstance } from '../sdk.ts';

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
