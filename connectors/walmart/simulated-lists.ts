import { randomBytes } from 'node:crypto';

/**
 * `GET /v3/orders` and `GET /v3/items` as the simulator serves them, with the parameters Walmart's orders and items
 * documents define:
 * - orders: `createdStartDate` (default seven days back; at most 180 days back), `createdEndDate` (default now),
 *   `lastModifiedStartDate` / `lastModifiedEndDate`, `status` (a line status), `sku`, `purchaseOrderId`,
 *   `customerOrderId`, `limit` (1–200, default 100), `shipNodeType` (SellerFulfilled by default; the simulated
 *   seller ships everything itself), dates as `yyyy-MM-dd` or ISO timestamps. More results than `limit` give
 *   `meta.nextCursor`, the next page's query string (`?limit=…&hasMoreElements=true&soIndex=…&poIndex=…` with the
 *   search's own filters, its end date fixed, as Walmart's example shows). Oldest order first.
 * - items: `nextCursor` (`*` for the first page, then the answer's), `limit` (1–50, default 20), `sku`,
 *   `lifecycleStatus`, `publishedStatus`; a new `nextCursor` per page, none on the last.
 * Parameters neither document defines are refused (400 `INVALID_REQUEST_PARAM`) rather than ignored.
 */
export interface ListedOrder {
  purchaseOrderId: string;
  customerOrderId: string;
  orderDate: number;
  lastModified: number;
  lineSkus: readonly string[];
  lineStatuses: readonly string[];
}

export interface ListedItem {
  sku: string;
  productName: string;
}

export type ListAnswer = { ok: true; body: Record<string, unknown> } | { ok: false; field: string; info: string };

const ORDER_PARAMS = new Set([
  'sku', 'customerOrderId', 'purchaseOrderId', 'status', 'createdStartDate', 'createdEndDate', 'fromExpectedShipDate', 'toExpectedShipDate',
  'lastModifiedStartDate', 'lastModifiedEndDate', 'limit', 'productInfo', 'shipNodeType', 'shippingProgramType', 'replacementInfo', 'orderType',
  'hasMoreElements', 'soIndex', 'poIndex', 'partnerId', 'sellerId',
]);
const NOT_MODELLED = ['fromExpectedShipDate', 'toExpectedShipDate', 'shippingProgramType', 'orderType'];
const LINE_STATUSES = ['Created', 'Acknowledged', 'Shipped', 'Delivered', 'Cancelled'];
const SHIP_NODE_TYPES = ['SellerFulfilled', 'WFSFulfilled', '3PLFulfilled'];
const ITEM_PARAMS = new Set(['nextCursor', 'sku', 'offset', 'limit', 'lifecycleStatus', 'publishedStatus', 'variantGroupId']);
const DAY_MS = 24 * 3600_000;

/** `yyyy-MM-dd` or an ISO 8601 timestamp, as the orders document allows. */
function dateParam(value: string | null): number | undefined | 'bad' {
  if (value === null) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return 'bad';
  const time = Date.parse(value);
  return Number.isFinite(time) ? time : 'bad';
}

export function listOrders<O extends ListedOrder>(config: { sellerId: string; body(order: O): Record<string, unknown> }): (query: URLSearchParams, orders: readonly O[]) => ListAnswer {
  return (query, orders) => {
    const now = Date.now();
    const unknown = [...query.keys()].find((name) => !ORDER_PARAMS.has(name));
    if (unknown) return { ok: false, field: unknown, info: `Unknown query parameter ${unknown}.` };
    const notModelled = NOT_MODELLED.find((name) => query.has(name));
    if (notModelled) return { ok: false, field: notModelled, info: `The simulator does not model ${notModelled}.` };
    const dates: Record<string, number | undefined> = {};
    for (const name of ['createdStartDate', 'createdEndDate', 'lastModifiedStartDate', 'lastModifiedEndDate']) {
      const parsed = dateParam(query.get(name));
      if (parsed === 'bad') return { ok: false, field: name, info: `${name} must be yyyy-MM-dd or an ISO 8601 timestamp.` };
      dates[name] = parsed;
    }
    const createdStart = dates.createdStartDate ?? now - 7 * DAY_MS;
    const createdEnd = dates.createdEndDate ?? now;
    if (createdStart < now - 180 * DAY_MS) return { ok: false, field: 'createdStartDate', info: 'Only orders created in the last 180 days can be fetched.' };
    const limitText = query.get('limit') ?? '100';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 200) return { ok: false, field: 'limit', info: 'limit cannot be larger than 200.' };
    const status = query.get('status');
    if (status !== null && !LINE_STATUSES.includes(status)) return { ok: false, field: 'status', info: `Valid statuses are ${LINE_STATUSES.join(', ')}.` };
    const shipNodeType = query.get('shipNodeType') ?? 'SellerFulfilled';
    if (!SHIP_NODE_TYPES.includes(shipNodeType)) return { ok: false, field: 'shipNodeType', info: `Allowed values are ${SHIP_NODE_TYPES.join(', ')}.` };
    for (const flag of ['productInfo', 'replacementInfo']) {
      const value = query.get(flag);
      if (value !== null && value !== 'true' && value !== 'false') return { ok: false, field: flag, info: `${flag} must be true or false.` };
    }
    const resuming = query.get('hasMoreElements') === 'true';
    const offsetText = query.get('poIndex') ?? '0';
    if (resuming && (!/^\d+$/.test(offsetText) || query.get('sellerId') !== config.sellerId)) return { ok: false, field: 'nextCursor', info: 'The cursor is not one this seller was given.' };
    const offset = resuming ? Number(offsetText) : 0;

    const matching = orders
      .filter((o) => shipNodeType === 'SellerFulfilled')
      .filter((o) => o.orderDate >= createdStart && o.orderDate <= createdEnd)
      .filter((o) => dates.lastModifiedStartDate === undefined || o.lastModified >= dates.lastModifiedStartDate)
      .filter((o) => dates.lastModifiedEndDate === undefined || o.lastModified <= dates.lastModifiedEndDate)
      .filter((o) => status === null || o.lineStatuses.includes(status))
      .filter((o) => !query.has('sku') || o.lineSkus.includes(query.get('sku') as string))
      .filter((o) => !query.has('purchaseOrderId') || o.purchaseOrderId === query.get('purchaseOrderId'))
      .filter((o) => !query.has('customerOrderId') || o.customerOrderId === query.get('customerOrderId'))
      .sort((a, b) => a.orderDate - b.orderDate || a.purchaseOrderId.localeCompare(b.purchaseOrderId));
    const page = matching.slice(offset, offset + limit);
    const meta: Record<string, unknown> = { totalCount: matching.length, limit };
    if (offset + limit < matching.length) {
      const next = new URLSearchParams();
      for (const [name, value] of query) if (!['limit', 'hasMoreElements', 'soIndex', 'poIndex', 'partnerId', 'sellerId', 'createdEndDate'].includes(name)) next.set(name, value);
      meta.nextCursor = `?${new URLSearchParams({
        limit: String(limit),
        hasMoreElements: 'true',
        soIndex: String(matching.length),
        poIndex: String(offset + limit),
        partnerId: '10000000001',
        sellerId: config.sellerId,
        createdEndDate: new Date(createdEnd).toISOString(),
      }).toString()}&${next.toString()}`.replace(/&$/, '');
    }
    return { ok: true, body: { list: { meta, elements: { order: page.map((o) => config.body(o)) } } } };
  };
}

export function listItems<I extends ListedItem>(config: { body(item: I): Record<string, unknown> }): (query: URLSearchParams, items: readonly I[]) => ListAnswer {
  const cursors = new Map<string, number>();
  return (query, items) => {
    const unknown = [...query.keys()].find((name) => !ITEM_PARAMS.has(name));
    if (unknown) return { ok: false, field: unknown, info: `Unknown query parameter ${unknown}.` };
    if (query.has('variantGroupId') || query.has('offset')) return { ok: false, field: query.has('offset') ? 'offset' : 'variantGroupId', info: 'The simulator pages with nextCursor only.' };
    const limitText = query.get('limit') ?? '20';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 50) return { ok: false, field: 'limit', info: 'limit cannot be more than 50.' };
    const cursor = query.get('nextCursor') ?? '*';
    const offset = cursor === '*' ? 0 : cursors.get(cursor);
    if (offset === undefined) return { ok: false, field: 'nextCursor', info: 'nextCursor is not one this seller was given.' };
    // Every simulated item is live and published.
    const lifecycle = query.get('lifecycleStatus');
    const published = query.get('publishedStatus');
    const matching = [...items]
      .filter(() => lifecycle === null || lifecycle === 'ACTIVE')
      .filter(() => published === null || published === 'PUBLISHED')
      .filter((item) => !query.has('sku') || item.sku === query.get('sku'))
      .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    const page = matching.slice(offset, offset + limit);
    const body: Record<string, unknown> = { ItemResponse: page.map((item) => config.body(item)), totalItems: matching.length };
    if (offset + limit < matching.length) {
      const next = randomBytes(24).toString('base64');
      cursors.set(next, offset + limit);
      body.nextCursor = next;
    }
    return { ok: true, body };
  };
}
