import type { ConnectorInstance, InventoryEvent, OrderPage } from '../../core/sdk.ts';

/** One catch-up pass: its pages in order, their events, and the cursor the last page returned. */
export interface CatchUpPass {
  events: InventoryEvent[];
  pages: OrderPage[];
  cursor: string;
}

/**
 * Every page of one catch-up pass from `cursor`, as the host reads them: the next page at once while `more`.
 * A pass of more than `maxPages` pages fails the spec instead of looping for ever.
 */
export async function readCatchUpPass(connector: ConnectorInstance, cursor: string | undefined, signal: AbortSignal, maxPages = 50): Promise<CatchUpPass> {
  const pages: OrderPage[] = [];
  for (;;) {
    const page = await connector.listOrders!(cursor, signal);
    pages.push(page);
    cursor = page.cursor;
    if (!page.more) return { events: pages.flatMap((p) => p.events), pages, cursor };
    if (pages.length >= maxPages) throw new Error(`the catch-up pass did not end within ${maxPages} pages`);
  }
}
