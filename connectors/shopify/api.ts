/**
 * The slice of Shopify's GraphQL Admin API and webhooks that the connector speaks and the simulator answers.
 *
 * - `POST /admin/api/{version}/graphql.json`, header `X-Shopify-Access-Token`; a missing or wrong token
 *   answers 401 `{ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" }`.
 * - `inventorySetQuantities(input: { name: "available", reason, quantities: [{ inventoryItemId, locationId,
 *   quantity, changeFromQuantity }] })`: at most 250 quantities (input arrays above 250 fail with a top-level
 *   `MAX_INPUT_SIZE_EXCEEDED` error). From API version 2026-04 every quantity carries `changeFromQuantity`
 *   (compare-and-swap); `null` opts that quantity out of the check. A mismatch answers the userError
 *   `CHANGE_FROM_QUANTITY_STALE` whose `field` is `["input", "quantities", "<index>", "changeFromQuantity"]`.
 * - Throttling is a cost bucket: every response carries `extensions.cost { requestedQueryCost, actualQueryCost,
 *   throttleStatus { maximumAvailable, currentlyAvailable, restoreRate } }`; a request whose cost does not fit
 *   answers HTTP 200 with `errors[].extensions.code = "THROTTLED"` (Shopify can also answer 429/503).
 * - Order webhooks (`orders/create`, `orders/updated`, `orders/cancelled`) carry the full REST Order resource;
 *   the raw body is signed with `X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(app secret, body))`. The
 *   `X-Shopify-Topic` header is not signed, so the connector reads what happened from the body alone.
 */

export const DEFAULT_API_VERSION = '2026-04';
/** Shopify's limit on any input array. */
export const MAX_QUANTITIES = 250;

export const HMAC_HEADER = 'x-shopify-hmac-sha256';
export const TOPIC_HEADER = 'x-shopify-topic';
export const WEBHOOK_ID_HEADER = 'x-shopify-webhook-id';
export const EVENT_ID_HEADER = 'x-shopify-event-id';
export const TOKEN_HEADER = 'x-shopify-access-token';

export const graphqlPath = (version: string): string => `/admin/api/${version}/graphql.json`;

/** The mutation's root field. */
export const SET_QUANTITIES_FIELD = 'inventorySetQuantities';

export const SET_QUANTITIES_MUTATION = `mutation StockrelaySetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}`;

export const LEVELS_QUERY = `query StockrelayLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}`;

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface QueryCost {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus;
}

export interface GraphqlError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
  path?: Array<string | number>;
}

export interface GraphqlResponse<Data> {
  data?: Data | null;
  errors?: GraphqlError[] | string;
  extensions?: { cost?: QueryCost };
}

export interface SetQuantityInput {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  changeFromQuantity?: number | null;
}

export interface SetQuantitiesVariables {
  input: { name: string; reason: string; referenceDocumentUri?: string; quantities: SetQuantityInput[] };
  idempotencyKey: string;
}

export interface UserError {
  code: string | null;
  field: string[] | null;
  message: string;
}

export interface SetQuantitiesData {
  inventorySetQuantities: { inventoryAdjustmentGroup: { id: string } | null; userErrors: UserError[] } | null;
}

export interface LevelsData {
  nodes: Array<{ id: string; inventoryLevel: { quantities: Array<{ name: string; quantity: number }> } | null } | null>;
}

/** `gid://shopify/<Type>/<id>` from a numeric id or a gid. */
export function toGid(type: string, id: string | number): string {
  const text = String(id);
  return text.startsWith('gid://') ? text : `gid://shopify/${type}/${text}`;
}

/** The numeric tail of a gid (or the value itself when it is already numeric). */
export function gidTail(id: string | number): string {
  const text = String(id);
  return text.slice(text.lastIndexOf('/') + 1);
}
