import { randomBytes } from 'node:crypto';

/**
 * The two SP-API search operations the simulator serves, checked as their models define them:
 * - Orders 2026-01-01 `searchOrders`: exactly one of `createdAfter` / `lastUpdatedAfter`; `createdBefore` only with
 *   `createdAfter` and `lastUpdatedBefore` only with `lastUpdatedAfter`, each at or after its start and at least two
 *   minutes before the request; ISO 8601 dates; `maxResultsPerPage` 1–100 (default 100); `fulfillmentStatuses`,
 *   `fulfilledBy` and `includedData` from their enums; at most 50 `marketplaceIds`. A `paginationToken` must be one
 *   the simulator issued, less than 24 hours ago, for a request whose other parameters (all but `maxResultsPerPage`
 *   and `includedData`) were the same. The answer names the search's end (`lastUpdatedBefore` / `createdBefore`):
 *   the one asked for, else the time of the first page's request (the model does not say what Amazon puts there when
 *   none was asked for). A search's orders are fixed at its first page; oldest change first.
 * - Listings Items 2021-08-01 `searchListingsItems`: `marketplaceIds` required, `includedData` from its enum
 *   (default `summaries`), `pageSize` 1–20 (default 10), `sortBy` / `sortOrder` from their enums (default
 *   `lastUpdatedDate` DESC), `pageToken` one the simulator issued for the same search; at most 1000 SKUs are paged
 *   through. The search filters (`identifiers`, `withStatus`, dates...) are not modelled and are refused (400) rather
 *   than ignored, so no test believes a filter applied.
 */
export interface SearchableOrder {
  orderId: string;
  createdTime: string;
  lastUpdatedTime: string;
}

export interface SearchableListing {
  sku: string;
  productType: string;
  itemName: string;
  createdDate: string;
  lastUpdatedDate: string;
}

export type SearchAnswer = { ok: true; body: Record<string, unknown> } | { ok: false; details: string };

const FULFILLMENT_STATUSES = ['PENDING_AVAILABILITY', 'PENDING', 'UNSHIPPED', 'PARTIALLY_SHIPPED', 'SHIPPED', 'CANCELLED', 'UNFULFILLABLE'];
const FULFILLED_BY = ['MERCHANT', 'AMAZON'];
const ORDER_INCLUDED_DATA = ['BUYER', 'RECIPIENT', 'PROCEEDS', 'EXPENSE', 'PROMOTION', 'CANCELLATION', 'FULFILLMENT', 'PACKAGES', 'TAX', 'PAYMENT', 'FULFILLMENT_ORDERS'];
const ORDER_PARAMS = new Set(['createdAfter', 'createdBefore', 'lastUpdatedAfter', 'lastUpdatedBefore', 'fulfillmentStatuses', 'marketplaceIds', 'fulfilledBy', 'maxResultsPerPage', 'paginationToken', 'includedData']);
const LISTING_INCLUDED_DATA = ['summaries', 'attributes', 'issues', 'offers', 'fulfillmentAvailability', 'procurement', 'relationships', 'productTypes'];
const LISTING_PARAMS = new Set(['marketplaceIds', 'issueLocale', 'includedData', 'sortBy', 'sortOrder', 'pageSize', 'pageToken']);
const LISTING_FILTERS = ['identifiers', 'identifiersType', 'variationParentSku', 'packageHierarchySku', 'createdAfter', 'createdBefore', 'lastUpdatedAfter', 'lastUpdatedBefore', 'withIssueSeverity', 'withStatus', 'withoutStatus'];
const TOKEN_LIFETIME_MS = 24 * 3600_000;
const MAX_LISTINGS_PAGED = 1000;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

const list = (query: URLSearchParams, name: string): string[] | undefined => {
  const value = query.get(name);
  return value === null ? undefined : value.split(',').filter((v) => v.length > 0);
};
const badEnum = (values: string[] | undefined, allowed: readonly string[]): string | undefined => values?.find((v) => !allowed.includes(v));
const wholeNumber = (text: string | null, min: number, max: number): number | undefined | 'bad' => {
  if (text === null) return undefined;
  const n = Number(text);
  return /^\d+$/.test(text) && n >= min && n <= max ? n : 'bad';
};

interface OrderToken {
  key: string;
  ids: string[];
  offset: number;
  end: string;
  endName: 'createdBefore' | 'lastUpdatedBefore';
  issuedAt: number;
}

export function searchOrders<O extends SearchableOrder>(config: {
  marketplaceId: string;
  pageMax: number;
  fulfillmentStatus(order: O): string;
  body(order: O, included: readonly string[]): Record<string, unknown>;
}): (query: URLSearchParams, orders: readonly O[]) => SearchAnswer {
  const tokens = new Map<string, OrderToken>();
  return (query, orders) => {
    const now = Date.now();
    const unknown = [...query.keys()].find((name) => !ORDER_PARAMS.has(name));
    if (unknown) return { ok: false, details: `unknown parameter ${unknown}` };
    const dates: Record<string, number | undefined> = {};
    for (const name of ['createdAfter', 'createdBefore', 'lastUpdatedAfter', 'lastUpdatedBefore']) {
      const value = query.get(name);
      if (value === null) continue;
      if (!ISO_DATE_TIME.test(value) || !Number.isFinite(Date.parse(value))) return { ok: false, details: `${name} is not an ISO 8601 date-time` };
      dates[name] = Date.parse(value);
    }
    const byCreated = dates.createdAfter !== undefined;
    if (byCreated === (dates.lastUpdatedAfter !== undefined)) return { ok: false, details: 'exactly one of createdAfter and lastUpdatedAfter is required' };
    if (byCreated && (dates.lastUpdatedBefore !== undefined)) return { ok: false, details: 'lastUpdatedBefore cannot be used with createdAfter' };
    if (!byCreated && (dates.createdBefore !== undefined)) return { ok: false, details: 'createdBefore cannot be used with lastUpdatedAfter' };
    const [startName, endName] = byCreated ? (['createdAfter', 'createdBefore'] as const) : (['lastUpdatedAfter', 'lastUpdatedBefore'] as const);
    const start = dates[startName] as number;
    const askedEnd = dates[endName];
    if (askedEnd !== undefined && (askedEnd < start || askedEnd > now - 120_000)) {
      return { ok: false, details: `${endName} must be at or after ${startName} and at least two minutes before the time of the request` };
    }
    const statuses = list(query, 'fulfillmentStatuses');
    const fulfilledBy = list(query, 'fulfilledBy');
    const included = list(query, 'includedData') ?? [];
    const marketplaces = list(query, 'marketplaceIds');
    const bad = badEnum(statuses, FULFILLMENT_STATUSES) ?? badEnum(fulfilledBy, FULFILLED_BY) ?? badEnum(included, ORDER_INCLUDED_DATA);
    if (bad !== undefined) return { ok: false, details: `${bad} is not an allowed value` };
    if (marketplaces && marketplaces.length > 50) return { ok: false, details: 'marketplaceIds holds more than 50 values' };
    const pageSize = wholeNumber(query.get('maxResultsPerPage'), 1, 100) ?? config.pageMax;
    if (pageSize === 'bad') return { ok: false, details: 'maxResultsPerPage must be between 1 and 100' };

    // What must stay the same from page to page: every parameter but the page size, datasets and the token itself.
    const key = [...query.entries()].filter(([name]) => !['maxResultsPerPage', 'includedData', 'paginationToken'].includes(name)).sort().map(([n, v]) => `${n}=${v}`).join('&');
    let state: OrderToken;
    const tokenText = query.get('paginationToken');
    if (tokenText !== null) {
      const found = tokens.get(tokenText);
      if (!found || found.key !== key || now - found.issuedAt > TOKEN_LIFETIME_MS) return { ok: false, details: 'paginationToken is invalid, expired, or was issued for other parameters' };
      tokens.delete(tokenText);
      state = found;
    } else {
      const end = askedEnd ?? now;
      const time = (order: O): number => Date.parse(byCreated ? order.createdTime : order.lastUpdatedTime);
      const matching = orders
        .filter((order) => time(order) >= start && time(order) <= end)
        .filter((order) => !marketplaces || marketplaces.includes(config.marketplaceId))
        .filter((order) => !statuses || statuses.includes(config.fulfillmentStatus(order)))
        .filter(() => !fulfilledBy || fulfilledBy.includes('MERCHANT'))
        .sort((a, b) => time(a) - time(b) || a.orderId.localeCompare(b.orderId));
      state = { key, ids: matching.map((order) => order.orderId), offset: 0, end: new Date(end).toISOString(), endName, issuedAt: now };
    }
    const byId = new Map(orders.map((order) => [order.orderId, order]));
    const pageIds = state.ids.slice(state.offset, state.offset + pageSize);
    const body: Record<string, unknown> = {
      orders: pageIds.flatMap((id) => {
        const order = byId.get(id);
        return order ? [config.body(order, included)] : [];
      }),
      [state.endName]: state.end,
    };
    if (state.offset + pageSize < state.ids.length) {
      const next = randomBytes(18).toString('base64url');
      tokens.set(next, { ...state, offset: state.offset + pageSize });
      body.pagination = { nextToken: next };
    }
    return { ok: true, body };
  };
}

export function searchListings<L extends SearchableListing>(config: {
  marketplaceId: string;
  pageMax: number;
  item(listing: L, included: readonly string[]): Record<string, unknown>;
}): (query: URLSearchParams, listings: readonly L[]) => SearchAnswer {
  const tokens = new Map<string, { key: string; offset: number }>();
  return (query, listings) => {
    const filter = LISTING_FILTERS.find((name) => query.has(name));
    if (filter) return { ok: false, details: `the simulator does not model the ${filter} filter` };
    const unknown = [...query.keys()].find((name) => !LISTING_PARAMS.has(name));
    if (unknown) return { ok: false, details: `unknown parameter ${unknown}` };
    const marketplaces = list(query, 'marketplaceIds');
    if (!marketplaces || marketplaces.length === 0) return { ok: false, details: 'marketplaceIds is required' };
    const included = list(query, 'includedData') ?? ['summaries'];
    const bad = badEnum(included, LISTING_INCLUDED_DATA);
    if (bad !== undefined) return { ok: false, details: `includedData ${bad} is not an allowed value` };
    const sortBy = query.get('sortBy') ?? 'lastUpdatedDate';
    const sortOrder = query.get('sortOrder') ?? 'DESC';
    if (!['sku', 'createdDate', 'lastUpdatedDate'].includes(sortBy) || !['ASC', 'DESC'].includes(sortOrder)) return { ok: false, details: 'sortBy or sortOrder is not an allowed value' };
    const pageSize = wholeNumber(query.get('pageSize'), 1, config.pageMax) ?? 10;
    if (pageSize === 'bad') return { ok: false, details: `pageSize must be between 1 and ${config.pageMax}` };
    const key = [...query.entries()].filter(([name]) => name !== 'pageToken').sort().map(([n, v]) => `${n}=${v}`).join('&');
    let offset = 0;
    const tokenText = query.get('pageToken');
    if (tokenText !== null) {
      const found = tokens.get(tokenText);
      if (!found || found.key !== key) return { ok: false, details: 'pageToken is invalid or was issued for another search' };
      offset = found.offset;
    }
    const inMarketplace = marketplaces.includes(config.marketplaceId) ? listings : [];
    const value = (l: L): string => (sortBy === 'sku' ? l.sku : sortBy === 'createdDate' ? l.createdDate : l.lastUpdatedDate);
    const sorted = [...inMarketplace].sort((a, b) => (sortOrder === 'ASC' ? 1 : -1) * (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : a.sku < b.sku ? -1 : 1));
    const reachable = sorted.slice(0, MAX_LISTINGS_PAGED);
    const page = reachable.slice(offset, offset + pageSize);
    const body: Record<string, unknown> = { numberOfResults: sorted.length, items: page.map((listing) => config.item(listing, included)) };
    const pagination: Record<string, string> = {};
    if (offset + pageSize < reachable.length) {
      const next = randomBytes(18).toString('base64url');
      tokens.set(next, { key, offset: offset + pageSize });
      pagination.nextToken = next;
    }
    if (offset > 0) {
      const previous = randomBytes(18).toString('base64url');
      tokens.set(previous, { key, offset: Math.max(0, offset - pageSize) });
      pagination.previousToken = previous;
    }
    if (Object.keys(pagination).length > 0) body.pagination = pagination;
    return { ok: true, body };
  };
}
