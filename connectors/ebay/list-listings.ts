import { RejectedError, RetryableError, type ChannelListing, type ListingPage } from '../../core/sdk.ts';
import type { HttpResponse } from '../_kit/http-client.ts';
import { INVENTORY_ITEMS_PATH, MAX_OFFERS_PER_PRICE_QUANTITY_CALL, OFFERS_PATH, type InventoryItemsPage, type OffersPage } from './api.ts';
import type { EbayListingRef } from './options.ts';

/** Inventory items per page: getInventoryItems' default; each item costs one getOffers call more. */
export const ITEMS_PER_PAGE = 25;

export interface ListingReaderDeps {
  get(path: string, what: string, signal: AbortSignal): Promise<HttpResponse>;
}

const quantityOf = (value: unknown): number | undefined => (Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined);

/**
 * Onboarding for eBay: one getInventoryItems page, then getOffers for each of its SKUs. A listing is an
 * inventory item with at least one published offer; its mapping names the item's SKU and those offers (the
 * ones push writes), and what it shows is the lower of the item's ship-to-home quantity and its offers'
 * available quantities. Items with no published offer are listed nowhere on eBay and left out.
 */
export function createListingReader(deps: ListingReaderDeps): (cursor: string | undefined, signal: AbortSignal) => Promise<ListingPage> {
  return async (cursor, signal) => {
    const offset = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RejectedError(`eBay: listing cursor ${JSON.stringify(cursor)} is not an offset`);
    const res = await deps.get(`${INVENTORY_ITEMS_PATH}?${new URLSearchParams({ limit: String(ITEMS_PER_PAGE), offset: String(offset) }).toString()}`, 'getInventoryItems', signal);
    if (res.status !== 200) throw new RetryableError(`eBay answered ${res.status} to getInventoryItems`);
    const page = (res.body ?? {}) as InventoryItemsPage;
    const items = Array.isArray(page.inventoryItems) ? page.inventoryItems : [];
    const listings: ChannelListing[] = [];
    for (const item of items) {
      if (typeof item?.sku !== 'string' || item.sku === '') continue;
      const offersRes = await deps.get(`${OFFERS_PATH}?${new URLSearchParams({ sku: item.sku }).toString()}`, 'getOffers', signal);
      // eBay answers 404 for a SKU that has no offer at all.
      if (offersRes.status === 404) continue;
      if (offersRes.status !== 200) throw new RetryableError(`eBay answered ${offersRes.status} to getOffers`);
      const offers = ((offersRes.body ?? {}) as OffersPage).offers ?? [];
      const published = offers.filter((o) => o?.status === 'PUBLISHED' && typeof o.offerId === 'string').slice(0, MAX_OFFERS_PER_PRICE_QUANTITY_CALL);
      if (published.length === 0) continue;
      const mapping: EbayListingRef = { sku: item.sku, offerIds: published.map((o) => o.offerId) };
      const shown = [quantityOf(item.availability?.shipToLocationAvailability?.quantity), ...published.map((o) => quantityOf(o.availableQuantity))].filter((q): q is number => q !== undefined);
      const title = item.product?.title;
      listings.push({ sku: item.sku, mapping: { ...mapping }, quantity: shown.length > 0 ? Math.min(...shown) : 0, ...(typeof title === 'string' ? { title } : {}) });
    }
    const total = Number.isSafeInteger(page.total) ? (page.total as number) : offset + items.length;
    const next = offset + items.length;
    return items.length > 0 && next < total ? { listings, cursor: String(next) } : { listings };
  };
}
