import { readFileSync } from 'node:fs';

/**
 * Walmart's own examples, from the Marketplace OpenAPI documents kept under test/fixtures/vendor/walmart (see its
 * SOURCE): the simulator builds its answers from these, filling in ids and quantities.
 */
interface OrdersDocument {
  paths: Record<string, { get: { responses: { '200': { content: { 'application/json': { examples: Record<string, { value: { order: Record<string, unknown> } }> } } } } } }>;
}

let orderExample: Record<string, unknown> | undefined;

/** A fresh copy of the `ORDER` example answer of `GET /v3/orders/{purchaseOrderId}` (the `order` object). */
export function walmartOrderExample(): Record<string, unknown> {
  if (!orderExample) {
    const document = JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/walmart/orders.json', import.meta.url), 'utf8')) as OrdersDocument;
    orderExample = document.paths['/v3/orders/{purchaseOrderId}']?.get.responses['200'].content['application/json'].examples.ORDER?.value.order;
    if (!orderExample) throw new Error('walmart simulator: the orders fixture holds no ORDER example');
  }
  return structuredClone(orderExample);
}

interface ListDocument {
  paths: Record<string, { get: { responses: { '200': { content: { 'application/json': { example: { list: { elements: { order: Array<Record<string, unknown>> } } } } } } } } }>;
}
interface ItemsDocument {
  paths: Record<string, { get: { responses: { '200': { content: { 'application/json': { examples: Record<string, { value: { ItemResponse: Array<Record<string, unknown>> } }> } } } } } }>;
}

let listedOrderExample: Record<string, unknown> | undefined;
let itemExample: Record<string, unknown> | undefined;

/** A fresh copy of the first order of the example answer of `GET /v3/orders`. */
export function walmartListedOrderExample(): Record<string, unknown> {
  if (!listedOrderExample) {
    const document = JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/walmart/orders.json', import.meta.url), 'utf8')) as ListDocument;
    listedOrderExample = document.paths['/v3/orders']?.get.responses['200'].content['application/json'].example.list.elements.order[0];
    if (!listedOrderExample) throw new Error('walmart simulator: the orders fixture holds no GET /v3/orders example');
  }
  return structuredClone(listedOrderExample);
}

/** A fresh copy of the first item of the `Get All Items` example answer of `GET /v3/items`. */
export function walmartItemExample(): Record<string, unknown> {
  if (!itemExample) {
    const document = JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/walmart/items.json', import.meta.url), 'utf8')) as ItemsDocument;
    itemExample = document.paths['/v3/items']?.get.responses['200'].content['application/json'].examples['Get All Items']?.value.ItemResponse[0];
    if (!itemExample) throw new Error('walmart simulator: the items fixture holds no GET /v3/items example');
  }
  return structuredClone(itemExample);
}

interface FeedsDocument {
  paths: Record<string, { get: { responses: { '200': { content: { 'application/json': { example: Record<string, unknown> } } } } } }>;
}

let feedStatusExample: Record<string, unknown> | undefined;

/** A fresh copy of the example answer of `GET /v3/feeds/{feedId}` (a PROCESSED feed with its item details). */
export function walmartFeedStatusExample(): Record<string, unknown> {
  if (!feedStatusExample) {
    const document = JSON.parse(readFileSync(new URL('../../test/fixtures/vendor/walmart/feeds.json', import.meta.url), 'utf8')) as FeedsDocument;
    feedStatusExample = document.paths['/v3/feeds/{feedId}']?.get.responses['200'].content['application/json'].example;
    if (!feedStatusExample) throw new Error('walmart simulator: the feeds fixture holds no GET /v3/feeds/{feedId} example');
  }
  return structuredClone(feedStatusExample);
}
