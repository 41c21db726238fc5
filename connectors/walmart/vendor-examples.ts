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
