import type { ListingPage, Logger } from '../../core/sdk.ts';
import type { AdminClient } from './admin-client.ts';
import { VARIANTS_PAGE, VARIANTS_QUERY, type VariantsData } from './order-queries.ts';

/**
 * One page of the shop's product variants as listings: the variant's SKU, what `options.skus[sku]` takes
 * (its inventory item and variant gids) and the `available` quantity at the configured location. Variants
 * without a SKU, or not stocked at that location (the connector could not set their quantity), are left out.
 */
export async function listShopifyListings(client: AdminClient, locationId: string, logger: Logger, cursor: string | undefined, signal: AbortSignal): Promise<ListingPage> {
  const body = await client.graphql<VariantsData>(VARIANTS_QUERY, { first: VARIANTS_PAGE, after: cursor ?? null, locationId }, 'the product variants query', signal);
  const connection = body.data?.productVariants;
  const listings: ListingPage['listings'] = [];
  for (const variant of connection?.nodes ?? []) {
    if (!variant.sku) continue;
    const level = variant.inventoryItem.inventoryLevel;
    if (!level) {
      logger.debug('variant not stocked at the location left out', { sku: variant.sku, variantId: variant.id });
      continue;
    }
    const title = variant.title && variant.title !== 'Default Title' ? `${variant.product.title} - ${variant.title}` : variant.product.title;
    listings.push({
      sku: variant.sku,
      mapping: { inventoryItemId: variant.inventoryItem.id, variantId: variant.id },
      quantity: level.quantities.find((q) => q.name === 'available')?.quantity ?? 0,
      title,
    });
  }
  const next = connection?.pageInfo.hasNextPage ? connection.pageInfo.endCursor ?? undefined : undefined;
  return next ? { listings, cursor: next } : { listings };
}
