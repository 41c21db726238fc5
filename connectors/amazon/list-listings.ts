import { RetryableError, type ChannelListing, type ListingPage, type Logger } from '../../core/sdk.ts';
import type { HttpRequest, HttpResponse } from '../_kit/http-client.ts';
import { listingsSearchPath, SEARCH_LISTINGS_PAGE_MAX, type ItemSearchResults, type ListingsItem } from './api.ts';
import type { AmazonListing } from './options.ts';

export interface ListingSearchDeps {
  sellerId: string;
  marketplaceId: string;
  request(req: Omit<HttpRequest, 'headers'>): Promise<HttpResponse>;
  describe(body: unknown): string;
  logger: Logger;
}

/**
 * One listing as the import maps it: `mapping` is exactly an `options.listings` entry (seller SKU and the product type
 * `patchListingsItem` needs), `quantity` the merchant-fulfilled (`DEFAULT`) availability. A listing without a summary
 * for the marketplace has no product type to patch with and is left out, with a warning.
 */
function toChannelListing(item: ListingsItem, marketplaceId: string, logger: Logger): ChannelListing | undefined {
  const summary = item.summaries?.find((s) => s.marketplaceId === marketplaceId) ?? item.summaries?.[0];
  if (typeof item.sku !== 'string' || item.sku.length === 0) return undefined;
  if (typeof summary?.productType !== 'string' || summary.productType.length === 0) {
    logger.warn('amazon listing without a product type for the marketplace left out of the import', { sellerSku: item.sku });
    return undefined;
  }
  const mapping: AmazonListing = { sellerSku: item.sku, productType: summary.productType };
  const merchant = item.fulfillmentAvailability?.find((entry) => entry.fulfillmentChannelCode === 'DEFAULT');
  const quantity = Number.isSafeInteger(merchant?.quantity) ? (merchant?.quantity as number) : 0;
  return { sku: item.sku, mapping: { ...mapping }, quantity, ...(summary.itemName ? { title: summary.itemName } : {}) };
}

/**
 * Onboarding through Listings Items 2021-08-01 `searchListingsItems`, which carries `fulfillmentAvailability` itself:
 * no report is needed. Sorted by SKU so pages stay put while the seller edits listings. Amazon pages through at most
 * 1000 SKUs of one search.
 */
export function createListingSearch(deps: ListingSearchDeps): (cursor: string | undefined, signal: AbortSignal) => Promise<ListingPage> {
  return async (cursor, signal) => {
    const query = new URLSearchParams({
      marketplaceIds: deps.marketplaceId,
      includedData: 'summaries,fulfillmentAvailability',
      pageSize: String(SEARCH_LISTINGS_PAGE_MAX),
      sortBy: 'sku',
      sortOrder: 'ASC',
    });
    if (cursor !== undefined) query.set('pageToken', cursor);
    const res = await deps.request({ method: 'GET', path: `${listingsSearchPath(deps.sellerId)}?${query.toString()}`, signal });
    if (res.status !== 200) throw new RetryableError(`amazon searchListingsItems answered ${res.status}: ${deps.describe(res.body)}`);
    const body = res.body as Partial<ItemSearchResults> | undefined;
    if (!Array.isArray(body?.items)) throw new RetryableError('amazon searchListingsItems answered without an items list');
    const listings = body.items.flatMap((item) => toChannelListing(item, deps.marketplaceId, deps.logger) ?? []);
    const next = body.pagination?.nextToken;
    return typeof next === 'string' && next.length > 0 ? { listings, cursor: next } : { listings };
  };
}
