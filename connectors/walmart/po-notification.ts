import { WebhookPayloadError } from '../../core/sdk.ts';

/** One purchase-order line as the connector needs it, whichever Walmart message it came from. */
export interface PoLine {
  lineNumber: string;
  sku: string;
  qty: number;
  /** The line's status when the message gave one (`Created`, `Cancelled`...). */
  status?: string;
}

/** A PO_CREATED / PO_LINE_AUTOCANCELLED notification, read and checked field by field. */
export interface PoNotification {
  eventType: string;
  purchaseOrderId: string;
  /** ISO time of the event (`source.eventTime`), when it parses. */
  eventTime: string | undefined;
  /** ISO time the order was placed (`payload.orderDate`: ISO text or epoch ms), when it parses. */
  orderDate: string | undefined;
  /** The lines the notification carries; empty when it carries none (the order is then fetched). */
  lines: PoLine[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Walmart's ids are digits (purchase orders) or short tokens; anything else is not put in a path or an event id. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A line quantity the ledger can hold; Walmart sends it as a numeric string. */
const MAX_LINE_QTY = 1_000_000;

/** ISO time of a date that arrives as ISO text, epoch ms (number or digits), or not at all. */
export function isoTime(value: unknown): string | undefined {
  let time = Number.NaN;
  if (typeof value === 'number') time = value;
  else if (typeof value === 'string' && value.length > 0) time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(time)) return undefined;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * The purchase order id exactly as sent. Walmart sends it as a string; should a number arrive, its digits are read
 * from the raw body, since JSON.parse would round an id above 2^53.
 */
function purchaseOrderIdOf(value: unknown, rawText: string): string {
  if (typeof value === 'string' && ID_PATTERN.test(value)) return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    const digits = /"purchaseOrderId"\s*:\s*(\d{1,64})\s*[,}]/.exec(rawText)?.[1];
    if (digits) return digits;
  }
  throw new WebhookPayloadError('payload.purchaseOrderId is missing or malformed');
}

/** A quantity given as a numeric string or a number, as a whole number of units the ledger can hold. */
function quantityOf(value: unknown, where: string): number {
  const qty = typeof value === 'string' && /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof qty !== 'number' || !Number.isSafeInteger(qty) || qty < 0 || qty > MAX_LINE_QTY) throw new WebhookPayloadError(`${where} is not a whole quantity`);
  return qty;
}

const lineNumberOf = (value: unknown, where: string): string => {
  if ((typeof value === 'string' && value.length > 0 && value.length <= 16) || (typeof value === 'number' && Number.isSafeInteger(value))) return String(value);
  throw new WebhookPayloadError(`${where}.lineNumber is missing or malformed`);
};

const skuOf = (value: unknown, where: string): string => {
  if (typeof value === 'string' && value.length > 0 && value.length <= 200) return value;
  throw new WebhookPayloadError(`${where}.sku is missing or malformed`);
};

/**
 * Reads a signed notification body. Returns undefined for event types the hub does not act on; throws
 * {@link WebhookPayloadError} (answered 400, so Walmart stops re-delivering) for anything malformed.
 */
export function readPoNotification(rawBody: Buffer): PoNotification | undefined {
  const rawText = rawBody.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(rawText);
  } catch (err) {
    throw new WebhookPayloadError('body is not JSON', { cause: err });
  }
  if (!isRecord(body) || !isRecord(body.source)) throw new WebhookPayloadError('source is missing');
  const eventType = body.source.eventType;
  if (typeof eventType !== 'string') throw new WebhookPayloadError('source.eventType is missing');
  if (eventType !== 'PO_CREATED' && eventType !== 'PO_LINE_AUTOCANCELLED') return undefined;
  const payload = body.payload;
  if (!isRecord(payload)) throw new WebhookPayloadError('payload is missing');
  const purchaseOrderId = purchaseOrderIdOf(payload.purchaseOrderId, rawText);
  const lines: PoLine[] = [];
  if (payload.orderLines !== undefined && payload.orderLines !== null) {
    if (!Array.isArray(payload.orderLines)) throw new WebhookPayloadError('payload.orderLines is not a list');
    payload.orderLines.forEach((line: unknown, index) => {
      const where = `payload.orderLines[${index}]`;
      if (!isRecord(line)) throw new WebhookPayloadError(`${where} is not an object`);
      const quantity = isRecord(line.quantity) ? line.quantity.measurementValue : undefined;
      lines.push({
        lineNumber: lineNumberOf(line.lineNumber, where),
        sku: skuOf(line.sku, where),
        qty: quantityOf(quantity, `${where}.quantity.measurementValue`),
        ...(typeof line.status === 'string' ? { status: line.status } : {}),
      });
    });
  }
  return { eventType, purchaseOrderId, eventTime: isoTime(body.source.eventTime), orderDate: isoTime(payload.orderDate), lines };
}

/** A purchase order as the orders API tells it: its lines with what each ordered and what of it is cancelled. */
export interface WalmartOrderFacts {
  purchaseOrderId: string;
  orderDate: string | undefined;
  lines: Array<PoLine & { cancelledQty: number; statusDate: string | undefined }>;
}

/** Units of a line in status `Cancelled` (`orderLineStatuses.orderLineStatus[].statusQuantity.amount`), 0 when none. */
function cancelledUnits(statuses: unknown, where: string): number {
  const list = isRecord(statuses) ? statuses.orderLineStatus : undefined;
  if (!Array.isArray(list)) return 0;
  let units = 0;
  list.forEach((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry.status !== 'string' || !/^cancel/i.test(entry.status)) return;
    const amount = isRecord(entry.statusQuantity) ? entry.statusQuantity.amount : undefined;
    units += quantityOf(amount, `${where}.orderLineStatuses.orderLineStatus[${index}].statusQuantity.amount`);
  });
  return units;
}

/**
 * One `order` object of the orders API (`GET /v3/orders/{purchaseOrderId}` or an element of `GET /v3/orders`):
 * `{ purchaseOrderId, orderDate, orderLines: { orderLine: [{ lineNumber, item: { sku }, orderLineQuantity: { amount },
 * orderLineStatuses }] } }`, or undefined when it cannot be read.
 */
export function readWalmartOrderObject(order: unknown, rawText = ''): WalmartOrderFacts | undefined {
  const orderLines = isRecord(order) && isRecord(order.orderLines) ? order.orderLines.orderLine : undefined;
  if (!isRecord(order) || !Array.isArray(orderLines)) return undefined;
  try {
    const purchaseOrderId = purchaseOrderIdOf(order.purchaseOrderId, rawText);
    const lines = orderLines.map((line: unknown, index) => {
      const where = `order.orderLines.orderLine[${index}]`;
      if (!isRecord(line) || !isRecord(line.item)) throw new WebhookPayloadError(`${where} is malformed`);
      const quantity = isRecord(line.orderLineQuantity) ? line.orderLineQuantity.amount : undefined;
      const qty = quantityOf(quantity, `${where}.orderLineQuantity.amount`);
      return {
        lineNumber: lineNumberOf(line.lineNumber, where),
        sku: skuOf(line.item.sku, `${where}.item`),
        qty,
        cancelledQty: Math.min(qty, cancelledUnits(line.orderLineStatuses, where)),
        statusDate: isoTime(line.statusDate),
      };
    });
    return { purchaseOrderId, orderDate: isoTime(order.orderDate), lines };
  } catch {
    return undefined;
  }
}

/** The `GET /v3/orders/{purchaseOrderId}` answer (`{ order: {...} }`), read as {@link readWalmartOrderObject}. */
export function readWalmartOrder(body: unknown): WalmartOrderFacts | undefined {
  return readWalmartOrderObject(isRecord(body) ? body.order : undefined);
}
