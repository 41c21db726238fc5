import type { ChannelListing, ListingPage, Logger } from '../../core/sdk.ts';
import { headerNumber } from '../_kit/http-client.ts';
import { API_PREFIX } from './api.ts';
import type { StoreClient } from './store-client.ts';

/** Products per page, and variations per page of one product (the REST API's maximum `per_page` is 100). */
export const PRODUCTS_PER_PAGE = 100;

interface ProductItem {
  id: number;
  name?: string;
  type?: string;
  sku?: string;
  manage_stock?: boolean | string;
  stock_quantity?: number | null;
}

const cursorOf = (page: number): string => String(page);

function pageOf(cursor: string | undefined): number {
  if (cursor === undefined) return 1;
  const page = Number(cursor);
  return Number.isSafeInteger(page) && page >= 1 ? page : 1;
}

/**
 * One page of the store's products as listings: a simple product with a SKU is one listing (`{ productId }`),
 * a variable product's variations with SKUs are one each (`{ productId, variationId }`), read from
 * /products/<id>/variations; the variable product itself is not (its variations hold the stock). A product that
 * does not manage its stock shows 0.
 */
export async function listWooListings(client: StoreClient, logger: Logger, cursor: string | undefined, signal: AbortSignal): Promise<ListingPage> {
  const page = pageOf(cursor);
  const res = await client.request('GET', `${API_PREFIX}/products?orderby=id&order=asc&per_page=${PRODUCTS_PER_PAGE}&page=${page}`, signal);
  const listings: ChannelListing[] = [];
  for (const product of (Array.isArray(res.body) ? res.body : []) as ProductItem[]) {
    if (product.type === 'variable') {
      for (let vp = 1; ; vp += 1) {
        const vres = await client.request('GET', `${API_PREFIX}/products/${product.id}/variations?orderby=id&order=asc&per_page=${PRODUCTS_PER_PAGE}&page=${vp}`, signal);
        for (const variation of (Array.isArray(vres.body) ? vres.body : []) as ProductItem[]) {
          if (!variation.sku) continue;
          listings.push({ sku: variation.sku, mapping: { productId: product.id, variationId: variation.id }, quantity: quantityOf(variation), ...(product.name ? { title: product.name } : {}) });
        }
        if (vp >= (headerNumber(vres.headers, 'x-wp-totalpages') ?? 1)) break;
      }
      continue;
    }
    if (!product.sku) {
      logger.debug('product without SKU left out', { productId: product.id });
      continue;
    }
    listings.push({ sku: product.sku, mapping: { productId: product.id }, quantity: quantityOf(product), ...(product.name ? { title: product.name } : {}) });
  }
  const more = page < (headerNumber(res.headers, 'x-wp-totalpages') ?? 1);
  return more ? { listings, cursor: cursorOf(page + 1) } : { listings };
}

function quantityOf(item: ProductItem): number {
  return typeof item.stock_quantity === 'number' && item.stock_quantity > 0 ? item.stock_quantity : 0;
}
