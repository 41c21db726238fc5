import { RejectedError, RetryableError, type ChannelListing, type ListingPage } from '../../core/sdk.ts';
import type { HttpRequest, HttpResponse } from '../_kit/http-client.ts';
import { INVENTORY_PATH, ITEMS_PAGE_LIMIT, ITEMS_PATH, type WalmartInventory, type WalmartItemList } from './api.ts';

export interface ItemListDeps {
  request(req: Omit<HttpRequest, 'headers'>): Promise<HttpResponse>;
  describe(body: unknown): string;
  shipNode: string | undefined;
}

interface ItemCursor {
  next: string;
  seen: number;
}

const encode = (cursor: ItemCursor): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');
function decode(cursor: string | undefined): ItemCursor {
  if (cursor === undefined) return { next: '*', seen: 0 };
  const value = (() => {
    try {
      return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<ItemCursor>;
    } catch {
      return undefined;
    }
  })();
  if (typeof value?.next !== 'string' || !Number.isSafeInteger(value.seen)) throw new RejectedError('walmart: the listings cursor is not one this connector wrote');
  return { next: value.next, seen: value.seen as number };
}

/**
 * Onboarding through `GET /v3/items` (active items, `nextCursor` paging from `*`) and `GET /v3/inventory?sku=` for
 * what each shows (at the configured ship node): `mapping` is `{ sku }`, the Walmart SKU `options.skus` maps to. An
 * item without inventory shows 0. Walmart's items answer may repeat the same `nextCursor` for every page, so the end
 * is also read from `totalItems` and from an empty page.
 */
export function createItemList(deps: ItemListDeps): (cursor: string | undefined, signal: AbortSignal) => Promise<ListingPage> {
  const quantityOf = async (sku: string, signal: AbortSignal): Promise<number> => {
    const res = await deps.request({ method: 'GET', path: `${INVENTORY_PATH}?sku=${encodeURIComponent(sku)}${deps.shipNode ? `&shipNode=${encodeURIComponent(deps.shipNode)}` : ''}`, signal });
    if (res.status === 404) return 0;
    if (res.status !== 200) throw new RetryableError(`walmart GET inventory answered ${res.status}: ${deps.describe(res.body)}`);
    const amount = (res.body as Partial<WalmartInventory> | undefined)?.quantity?.amount;
    return typeof amount === 'number' && Number.isSafeInteger(amount) && amount >= 0 ? amount : 0;
  };

  return async (cursor, signal) => {
    const { next, seen } = decode(cursor);
    const query = new URLSearchParams({ nextCursor: next, limit: String(ITEMS_PAGE_LIMIT), lifecycleStatus: 'ACTIVE' });
    const res = await deps.request({ method: 'GET', path: `${ITEMS_PATH}?${query.toString()}`, signal });
    if (res.status !== 200) throw new RetryableError(`walmart GET ${ITEMS_PATH} answered ${res.status}: ${deps.describe(res.body)}`);
    const body = res.body as Partial<WalmartItemList> | undefined;
    if (!Array.isArray(body?.ItemResponse)) throw new RetryableError(`walmart GET ${ITEMS_PATH} answered without ItemResponse`);
    const listings: ChannelListing[] = [];
    for (const item of body.ItemResponse) {
      if (typeof item?.sku !== 'string' || item.sku.length === 0) continue;
      listings.push({ sku: item.sku, mapping: { sku: item.sku }, quantity: await quantityOf(item.sku, signal), ...(item.productName ? { title: item.productName } : {}) });
    }
    const total = typeof body.totalItems === 'number' ? body.totalItems : Number.POSITIVE_INFINITY;
    const read = seen + body.ItemResponse.length;
    const more = typeof body.nextCursor === 'string' && body.nextCursor.length > 0 && body.ItemResponse.length > 0 && read < total;
    return more ? { listings, cursor: encode({ next: body.nextCursor as string, seen: read }) } : { listings };
  };
}
