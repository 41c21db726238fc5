import type { EtsyInventory, EtsyInventoryUpdate } from './api.ts';

/**
 * The write shape of an inventory read: ids and deletion flags out, prices as decimals. The write replaces
 * the whole inventory, so whatever the read carries that the write takes is written back as read: a listing's
 * processing profiles (`readiness_state_id`, `readiness_state_on_property`), where Etsy returns them, stay.
 */
export function toInventoryUpdate(inventory: EtsyInventory): EtsyInventoryUpdate {
  return {
    products: inventory.products
      .filter((p) => !p.is_deleted)
      .map((product) => ({
        sku: product.sku,
        property_values: product.property_values.map(({ property_id, property_name, scale_id, value_ids, values }) => ({ property_id, property_name, scale_id, value_ids, values })),
        offerings: product.offerings
          .filter((o) => !o.is_deleted)
          .map((offering) => ({
            price: offering.price.amount / offering.price.divisor,
            quantity: offering.quantity,
            is_enabled: offering.is_enabled,
            ...(typeof offering.readiness_state_id === 'number' ? { readiness_state_id: offering.readiness_state_id } : {}),
          })),
      })),
    price_on_property: inventory.price_on_property,
    quantity_on_property: inventory.quantity_on_property,
    sku_on_property: inventory.sku_on_property,
    ...(Array.isArray(inventory.readiness_state_on_property) ? { readiness_state_on_property: inventory.readiness_state_on_property } : {}),
  };
}
