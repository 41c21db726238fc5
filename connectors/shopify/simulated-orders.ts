import { GraphQLError } from 'graphql';
import { toGid } from './api.ts';
import type { RestockType } from './refund-body.ts';

/** One order as the simulated shop records it. */
export interface SimOrder {
  id: number;
  name: string;
  number: number;
  createdAt: string;
  updatedAt: string;
  cancelledAt: string | null;
  lines: Array<{ id: number; sku: string; variantId: number | null; qty: number }>;
  refunds: SimRefund[];
}

export interface SimRefund {
  id: number;
  createdAt: string;
  lines: Array<{ lineId: number; qty: number; restockType: RestockType }>;
}

type Json = Record<string, unknown>;

/** A `search` warning as Shopify reports it in `extensions.search` for a term it did not apply. */
export interface SearchWarning {
  field: string;
  message: string;
}

const TERM = /^([a-z_]+):(<=|>=|<|>)?(?:'([^']*)'|"([^"]*)"|(\S+))$/;
const TIME_FIELDS: Readonly<Record<string, (o: SimOrder) => string>> = { updated_at: (o) => o.updatedAt, created_at: (o) => o.createdAt, processed_at: (o) => o.createdAt };

/** Splits a search query into terms at spaces outside quotes. */
function terms(query: string): string[] {
  return query.match(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g) ?? [];
}

/**
 * The orders query's `query` filter, as far as the simulator understands Shopify's search syntax: terms joined
 * by spaces or AND must all hold; `updated_at`, `created_at`, `processed_at` (a time, or `now`) and `id` compare
 * with `:`, `:<`, `:<=`, `:>`, `:>=`. Any other term is not applied and reported as a warning, as Shopify does
 * for a field it does not know.
 */
export function orderSearch(query: string | undefined): { matches(order: SimOrder): boolean; warnings: SearchWarning[] } {
  const tests: Array<(order: SimOrder) => boolean> = [];
  const warnings: SearchWarning[] = [];
  for (const term of terms(query ?? '')) {
    if (term === 'AND') continue;
    const match = TERM.exec(term);
    const field = match?.[1] ?? term;
    const op = match?.[2] ?? '=';
    const value = match?.[3] ?? match?.[4] ?? match?.[5] ?? '';
    const compare = (a: number, b: number): boolean => (op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : op === '>=' ? a >= b : a === b);
    const time = TIME_FIELDS[field];
    if (match && time) {
      const at = value === 'now' ? Date.now() : Date.parse(value);
      if (Number.isNaN(at)) {
        warnings.push({ field, message: `Invalid date-time value ${value}.` });
        continue;
      }
      tests.push((order) => compare(Date.parse(time(order)), at));
    } else if (match && field === 'id' && /^[0-9]+$/.test(value)) {
      tests.push((order) => compare(order.id, Number(value)));
    } else {
      warnings.push({ field, message: 'Invalid search field for this query.' });
    }
  }
  return { matches: (order) => tests.every((t) => t(order)), warnings };
}

const encodeCursor = (key: unknown[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

function decodeCursor(cursor: string): unknown[] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key)) return key;
  } catch {
    // Falls through to the refusal.
  }
  throw new GraphQLError(`Invalid cursor for current pagination sort.`, { extensions: { code: 'BAD_REQUEST' } });
}

const compareKeys = (a: readonly unknown[], b: readonly unknown[]): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const [x, y] = [a[i], b[i]];
    if (x === y) continue;
    return (x as number | string) < (y as number | string) ? -1 : 1;
  }
  return 0;
};

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  reverse?: boolean | null;
}

/**
 * A connection over `items`, ordered by `keyOf` (ties broken by the key's last element, an id): the cursor
 * holds the sort key of its item, so an item that moves or appears during paging is never skipped, as with
 * Shopify's cursors. Only forward paging (`first`/`after`) is simulated.
 */
export function connection<T>(items: readonly T[], args: PageArgs, keyOf: (item: T) => unknown[], nodeOf: (item: T) => unknown): Json {
  if (typeof args.last === 'number' || typeof args.before === 'string') throw new GraphQLError('The simulator pages forward only (first/after).', { extensions: { code: 'BAD_REQUEST' } });
  if (typeof args.first !== 'number') throw new GraphQLError('you must provide one of first or last', { extensions: { code: 'BAD_REQUEST' } });
  if (args.first < 0 || args.first > 250) throw new GraphQLError('The first argument must be between 0 and 250.', { extensions: { code: 'BAD_REQUEST' } });
  const direction = args.reverse ? -1 : 1;
  const sorted = [...items].sort((a, b) => direction * compareKeys(keyOf(a), keyOf(b)));
  const from = typeof args.after === 'string' ? decodeCursor(args.after) : undefined;
  const rest = from ? sorted.filter((item) => direction * compareKeys(keyOf(item), from) > 0) : sorted;
  const page = rest.slice(0, args.first);
  const last = page[page.length - 1];
  return {
    pageInfo: { hasNextPage: rest.length > page.length, hasPreviousPage: from !== undefined, startCursor: page[0] ? encodeCursor(keyOf(page[0])) : null, endCursor: last ? encodeCursor(keyOf(last)) : null },
    nodes: page.map(nodeOf),
    edges: page.map((item) => ({ cursor: encodeCursor(keyOf(item)), node: nodeOf(item) })),
  };
}

/** The sort key of an order for the orders query's `sortKey`; keys the simulator does not model sort by id. */
export function orderSortKey(sortKey: string | undefined): (order: SimOrder) => unknown[] {
  switch (sortKey) {
    case 'UPDATED_AT':
      return (o) => [Date.parse(o.updatedAt), o.id];
    case 'CREATED_AT':
    case 'PROCESSED_AT':
      return (o) => [Date.parse(o.createdAt), o.id];
    case 'ORDER_NUMBER':
      return (o) => [o.number, o.id];
    default:
      return (o) => [o.id];
  }
}

/**
 * An Order node as graphql's default resolvers read it (functions take the field's arguments). `variant`
 * gives the ProductVariant node of a line's variant.
 */
export function orderNode(order: SimOrder, variant: (variantId: number) => Json | null): Json {
  const lineNode = (line: SimOrder['lines'][number]): Json => ({
    __typename: 'LineItem',
    id: toGid('LineItem', line.id),
    sku: line.sku,
    quantity: line.qty,
    variant: line.variantId === null ? null : variant(line.variantId),
  });
  return {
    __typename: 'Order',
    id: toGid('Order', order.id),
    name: order.name,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    cancelledAt: order.cancelledAt,
    lineItems: (args: PageArgs) => connection(order.lines, args, (l) => [l.id], lineNode),
    refunds: ({ first }: { first?: number | null }) =>
      order.refunds.slice(0, typeof first === 'number' ? first : undefined).map((refund) => ({
        __typename: 'Refund',
        id: toGid('Refund', refund.id),
        createdAt: refund.createdAt,
        refundLineItems: (args: PageArgs) =>
          connection(refund.lines.map((l, i) => ({ ...l, at: i })), args, (l) => [l.at], (l) => ({
            quantity: l.qty,
            restockType: l.restockType.toUpperCase(),
            lineItem: lineNode(order.lines.find((line) => line.id === l.lineId)!),
          })),
      })),
  };
}
