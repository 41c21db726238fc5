import { WebhookPayloadError } from '../../core/sdk.ts';
import { gidTail } from './api.ts';
import type { OrderBody, OrderBodyLine } from './order-body.ts';
import type { LineItemNode, OrderNode, RefundNode } from './order-queries.ts';
import type { RefundBody, RestockType } from './refund-body.ts';

const ORDER_GID = /^gid:\/\/shopify\/Order\/([0-9]{1,30})$/;
const REFUND_GID = /^gid:\/\/shopify\/Refund\/([0-9]{1,30})$/;
const RESTOCK_TYPES: Readonly<Record<string, RestockType>> = { NO_RESTOCK: 'no_restock', CANCEL: 'cancel', RETURN: 'return', LEGACY_RESTOCK: 'legacy_restock' };

function instant(value: string, what: string): string {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new WebhookPayloadError(`${what} is not a valid date-time`);
  return at.toISOString();
}

function line(node: LineItemNode): OrderBodyLine {
  return { sku: node.sku && node.sku.length > 0 ? node.sku : null, variantId: node.variant ? gidTail(node.variant.id) : null, quantity: node.quantity };
}

/** The order id (digits) of an Order node's gid; the same id the webhook body's `admin_graphql_api_id` gives. */
export function orderIdOf(node: { id: string }): string {
  const match = ORDER_GID.exec(node.id);
  if (!match) throw new WebhookPayloadError(`order id ${JSON.stringify(node.id)} is not an Order gid`);
  return match[1]!;
}

/** An Order node of the GraphQL Admin API as the same {@link OrderBody} its webhook body reads as. */
export function orderBodyOfNode(node: OrderNode): OrderBody {
  return {
    id: orderIdOf(node),
    name: node.name,
    createdAt: instant(node.createdAt, 'order createdAt'),
    ...(node.cancelledAt ? { cancelledAt: instant(node.cancelledAt, 'order cancelledAt') } : {}),
    updatedAt: instant(node.updatedAt, 'order updatedAt'),
    lines: node.lineItems.nodes.filter((n) => n.quantity > 0).map(line),
  };
}

/**
 * A Refund node (with its refund lines) as the same {@link RefundBody} its refunds/create body reads as. A
 * refund without a creation time (the field is nullable) is dated by its order's last update.
 */
export function refundBodyOfNode(node: RefundNode, order: OrderBody): RefundBody {
  const match = REFUND_GID.exec(node.id);
  if (!match) throw new WebhookPayloadError(`refund id ${JSON.stringify(node.id)} is not a Refund gid`);
  return {
    id: match[1]!,
    orderId: order.id,
    createdAt: node.createdAt ? instant(node.createdAt, 'refund createdAt') : (order.updatedAt ?? order.createdAt),
    lines: (node.refundLineItems?.nodes ?? []).filter((n) => n.quantity > 0).map((n) => {
      const restockType = RESTOCK_TYPES[n.restockType];
      if (!restockType) throw new WebhookPayloadError(`refund line restockType ${JSON.stringify(n.restockType)} is not one Shopify documents`);
      return { ...line(n.lineItem), restockType, quantity: n.quantity };
    }),
  };
}
