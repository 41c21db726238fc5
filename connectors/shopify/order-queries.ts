/**
 * The GraphQL Admin API reads behind missed-order catch-up and onboarding: `orders` (search syntax
 * `updated_at:>=<time>`, sorted by UPDATED_AT, cursor pagination), `order(id)` for an order whose refunds or
 * lines do not fit the list page, and `productVariants` for the shop's listings.
 *
 * Page sizes keep each document under Shopify's single-query maximum of 1,000 requested cost points
 * (objects 1 point, connections 2 + `first` × their node's cost): a list page of 30 orders with up to 10
 * lines each costs about 30 × (1 + 22 + 5) + 2 = 842.
 */

/** Orders per list page. */
export const ORDERS_PAGE = 30;
/** Lines read per order on the list page; an order with more is read again on its own. */
export const LIST_LINES = 10;
/** Refund ids read per order on the list page; an order with any refund is read again on its own. */
export const LIST_REFUNDS = 5;
/** Lines, refunds and refund lines read for one order. */
export const ORDER_LINES = 100;
export const ORDER_REFUNDS = 10;
export const REFUND_LINES = 20;
/** Variants per listings page. */
export const VARIANTS_PAGE = 100;

export const ORDERS_QUERY = `query StockrelayOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      name
      createdAt
      updatedAt
      cancelledAt
      lineItems(first: ${LIST_LINES}) { pageInfo { hasNextPage } nodes { sku quantity variant { id } } }
      refunds(first: ${LIST_REFUNDS}) { id }
    }
  }
}`;

export const ORDER_QUERY = `query StockrelayOrder($id: ID!) {
  order(id: $id) {
    id
    name
    createdAt
    updatedAt
    cancelledAt
    lineItems(first: ${ORDER_LINES}) { pageInfo { hasNextPage } nodes { sku quantity variant { id } } }
    refunds(first: ${ORDER_REFUNDS}) {
      id
      createdAt
      refundLineItems(first: ${REFUND_LINES}) { pageInfo { hasNextPage } nodes { quantity restockType lineItem { sku variant { id } } } }
    }
  }
}`;

export const VARIANTS_QUERY = `query StockrelayVariants($first: Int!, $after: String, $locationId: ID!) {
  productVariants(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      sku
      title
      product { title }
      inventoryItem {
        id
        inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
      }
    }
  }
}`;

export interface PageInfo {
  hasNextPage: boolean;
  endCursor?: string | null;
}

export interface LineItemNode {
  sku: string | null;
  quantity: number;
  variant: { id: string } | null;
}

export interface RefundNode {
  id: string;
  createdAt?: string | null;
  refundLineItems?: { pageInfo: PageInfo; nodes: Array<{ quantity: number; restockType: string; lineItem: LineItemNode }> };
}

export interface OrderNode {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  cancelledAt: string | null;
  lineItems: { pageInfo: PageInfo; nodes: LineItemNode[] };
  refunds: RefundNode[];
}

export interface OrdersData {
  orders: { pageInfo: PageInfo; nodes: OrderNode[] };
}

export interface OrderData {
  order: OrderNode | null;
}

export interface VariantNode {
  id: string;
  sku: string | null;
  title: string;
  product: { title: string };
  inventoryItem: { id: string; inventoryLevel: { quantities: Array<{ name: string; quantity: number }> } | null };
}

export interface VariantsData {
  productVariants: { pageInfo: PageInfo; nodes: VariantNode[] };
}
