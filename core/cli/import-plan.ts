import { isDeepStrictEqual } from 'node:util';
import type { ChannelListing, JsonSchema } from '../sdk.ts';

/** A listing as the import report shows it: the channel's ids, what it shows, its title. */
export interface ReportedListing {
  mapping: Record<string, unknown>;
  quantity: number;
  title?: string;
}

/** What the listings of one channel make of its SKU map, before anything is written. */
export interface ImportPlan {
  /** The SKU map to write: the existing one, with every SKU found once on the channel set to what it found. */
  map: Record<string, unknown>;
  /** SKUs the channel lists once, with the quantity it shows: the ones mapped (and seeded) by this import. */
  found: Map<string, number>;
  /** SKUs new in the map. */
  added: string[];
  /** SKUs whose mapping changed (the channel's ids differ from the map's). */
  changed: string[];
  /** SKUs already mapped exactly as the channel lists them. */
  unchanged: string[];
  /** SKUs in the existing map that the channel does not list (kept as they were: a listing may be paused). */
  notOnChannel: string[];
  /** Listings without a SKU: nothing to map them to. */
  withoutSku: ReportedListing[];
  /** SKUs two or more different listings carry: none of them is mapped (an existing entry is kept), so a seller chooses. */
  duplicates: Array<{ sku: string; listings: ReportedListing[] }>;
}

/**
 * Plans a channel's SKU map from its listings (pure). A listing's `mapping` becomes the map's value for its
 * SKU; where the connector's map holds plain values (Walmart: hub SKU → Walmart SKU) rather than objects, the
 * mapping's single value is written. The same listing read twice (pages that overlap) counts once; two
 * different listings with one SKU are a duplicate, and neither wins silently.
 */
export function planSkuMap(listings: readonly ChannelListing[], existing: Readonly<Record<string, unknown>>, valueSchema: JsonSchema | undefined): ImportPlan {
  const bySku = new Map<string, ChannelListing[]>();
  const withoutSku: ReportedListing[] = [];
  for (const listing of listings) {
    if (typeof listing.sku !== 'string' || listing.sku.trim() === '') {
      withoutSku.push(reported(listing));
      continue;
    }
    const group = bySku.get(listing.sku) ?? [];
    if (!group.some((seen) => isDeepStrictEqual(seen.mapping, listing.mapping))) group.push(listing);
    bySku.set(listing.sku, group);
  }

  const map: Record<string, unknown> = { ...existing };
  const plan: ImportPlan = { map, found: new Map(), added: [], changed: [], unchanged: [], notOnChannel: [], withoutSku, duplicates: [] };
  const plainValues = valueSchema !== undefined && valueSchema.type !== undefined && valueSchema.type !== 'object';
  for (const [sku, group] of [...bySku].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (group.length > 1) {
      plan.duplicates.push({ sku, listings: group.map(reported) });
      continue;
    }
    const listing = group[0]!;
    const value = plainValues ? singleValue(listing.mapping) : { ...listing.mapping };
    plan.found.set(sku, listing.quantity);
    if (!Object.hasOwn(existing, sku)) plan.added.push(sku);
    else if (isDeepStrictEqual(existing[sku], value)) plan.unchanged.push(sku);
    else plan.changed.push(sku);
    map[sku] = value;
  }
  plan.notOnChannel = Object.keys(existing).filter((sku) => !bySku.has(sku)).sort();
  return plan;
}

/** The one value of a mapping written where the map holds plain values; the mapping itself when it has several. */
function singleValue(mapping: Record<string, unknown>): unknown {
  const values = Object.values(mapping);
  return values.length === 1 ? values[0] : mapping;
}

function reported(listing: ChannelListing): ReportedListing {
  return { mapping: listing.mapping, quantity: listing.quantity, ...(listing.title !== undefined ? { title: listing.title } : {}) };
}

/**
 * The option of a connector's options that holds its SKU map (`skus`, or `listings` where the channel calls them
 * that) and the schema of one of its values; undefined for a connector that addresses listings by SKU and needs
 * no map (the sandbox).
 */
export function skuMapOption(optionsSchema: JsonSchema): { option: string; valueSchema: JsonSchema | undefined } | undefined {
  const properties = optionsSchema.properties;
  if (typeof properties !== 'object' || properties === null) return undefined;
  for (const option of ['skus', 'listings']) {
    const schema = (properties as Record<string, unknown>)[option];
    if (typeof schema !== 'object' || schema === null) continue;
    const values = (schema as JsonSchema).additionalProperties;
    return { option, valueSchema: typeof values === 'object' && values !== null ? (values as JsonSchema) : undefined };
  }
  return undefined;
}
