import { readFileSync } from 'node:fs';
import { buildSchema, extendSchema, parse, type GraphQLSchema } from 'graphql';

const fixture = (name: string): string => readFileSync(new URL(`../../test/fixtures/vendor/shopify/${name}`, import.meta.url), 'utf8');

let published: GraphQLSchema | undefined;
let current: GraphQLSchema | undefined;

/** True for the API versions that take `changeFromQuantity` and require `@idempotent` (2026-04 and later). */
export function isChangeFromVersion(version: string): boolean {
  return version === 'unstable' || version >= '2026-04';
}

/** 2026-04 removed the compare-quantity pair that changeFromQuantity replaced; an extension cannot remove fields. */
function withoutRemovedFields(sdl: string): string {
  const removed = sdl.replace(/^\s*compareQuantity: Int\n/m, '').replace(/^\s*ignoreCompareQuantity: Boolean = false\n/m, '');
  if (removed.length !== sdl.length - '  compareQuantity: Int\n'.length - '  ignoreCompareQuantity: Boolean = false\n'.length) {
    throw new Error('shopify simulator: the 2025-01 schema fixture no longer has the fields 2026-04 removed');
  }
  return removed;
}

/**
 * The slice of Shopify's GraphQL Admin schema the simulator answers, for an API version: Shopify's own
 * published 2025-01 introspection (trimmed, see test/fixtures/vendor/shopify/SOURCE) for older versions,
 * that plus the 2026-04 changes for 2026-04 and later, each with the orders and product variants slice of the
 * same 2025-01 introspection. Built once per process.
 */
export function adminSchema(version: string): GraphQLSchema {
  published ??= withReads(buildSchema(fixture('admin-2025-01-inventory.graphql')));
  if (!isChangeFromVersion(version)) return published;
  current ??= withReads(extendSchema(buildSchema(withoutRemovedFields(fixture('admin-2025-01-inventory.graphql'))), parse(fixture('admin-2026-04-inventory-delta.graphql'))));
  return current;
}

/** The orders, order and productVariants slice (published 2025-01, unchanged in that slice by 2026-04). */
function withReads(schema: GraphQLSchema): GraphQLSchema {
  return extendSchema(schema, parse(fixture('admin-2025-01-orders-variants.graphql')));
}
