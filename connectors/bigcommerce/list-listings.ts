import { RejectedError, RetryableError, type ChannelListing, type ListingPage } from '../../core/sdk.ts';
import type { HttpResponse } from '../_kit/http-client.ts';
import { catalogProductsPath } from './api.ts';
import type { BigCommerceSkuMapping } from './options.ts';

/** Products per catalog page: the documented maximum of `limit`. */
export const PRODUCTS_PER_PAGE = 250;

export interface ListingReaderDeps {
  storeHash: string;
  get<T>(path: string, signal: AbortSignal): Promise<HttpResponse & { body: T }>;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const count = (value: unknown): number => (Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : 0);

/**
 * One listing per place the store keeps stock: a product tracked by product is adjusted by `productId`, each
 * variant of a product tracked by variant by `variantId` (an adjustment by the other id is refused as "tracked by
 * product"). Products whose inventory is not tracked have nothing to keep in step. An entry without a SKU is
 * listed with `sku: ''`, so the import can report it (no hub SKU can be matched to it).
 */
export function listingsOfProduct(product: unknown): ChannelListing[] {
  if (!isRecord(product) || !Number.isSafeInteger(product.id)) return [];
  const title = typeof product.name === 'string' ? product.name : undefined;
  const withTitle = (listing: ChannelListing): ChannelListing => (title === undefined ? listing : { ...listing, title });
  if (product.inventory_tracking === 'product') {
    const mapping: BigCommerceSkuMapping = { productId: product.id as number };
    return [withTitle({ sku: typeof product.sku === 'string' ? product.sku : '', mapping: { ...mapping }, quantity: count(product.inventory_level) })];
  }
  if (product.inventory_tracking !== 'variant' || !Array.isArray(product.variants)) return [];
  const listings: ChannelListing[] = [];
  for (const variant of product.variants) {
    if (!isRecord(variant) || !Number.isSafeInteger(variant.id)) continue;
    const mapping: BigCommerceSkuMapping = { variantId: variant.id as number };
    listings.push(withTitle({ sku: typeof variant.sku === 'string' ? variant.sku : '', mapping: { ...mapping }, quantity: count(variant.inventory_level) }));
  }
  return listings;
}

/** Onboarding: `GET /v3/catalog/products?include=variants`, one page per call, the page number as the cursor. */
export function createListingReader(deps: ListingReaderDeps): (cursor: string | undefined, signal: AbortSignal) => Promise<ListingPage> {
  return async (cursor, signal) => {
    const page = cursor === undefined ? 1 : Number(cursor);
    if (!Number.isSafeInteger(page) || page < 1) throw new RejectedError(`bigcommerce: listing cursor ${JSON.stringify(cursor)} is not a page number`);
    const query = new URLSearchParams({ include: 'variants', page: String(page), limit: String(PRODUCTS_PER_PAGE) });
    const res = await deps.get<unknown>(`${catalogProductsPath(deps.storeHash)}?${query.toString()}`, signal);
    if (res.status !== 200 || !isRecord(res.body) || !Array.isArray(res.body.data)) throw new RetryableError(`bigcommerce answered ${res.status} to the catalog products read`);
    const listings = res.body.data.flatMap(listingsOfProduct);
    const pagination = isRecord(res.body.meta) && isRecord(res.body.meta.pagination) ? res.body.meta.pagination : {};
    const totalPages = Number.isSafeInteger(pagination.total_pages) ? (pagination.total_pages as number) : page;
    return page < totalPages ? { listings, cursor: String(page + 1) } : { listings };
  };
}
