import { sql } from 'kysely';
import type { ArrayElementType, UnnestedRows } from './unnest-rows.ts';

/**
 * Rows as the table expression `json_to_recordset($1::json) AS alias(col type, …)`: the same table as
 * {@link unnestRows} gives, sent as one JSON text parameter instead of one array per column. The ledger's
 * write path sends thousands of cells per batch; the driver quotes and escapes every array element in
 * JavaScript, one by one, which cost more than planning the batch, while `JSON.stringify` is native.
 * Keys of a row that are not columns are ignored by the server; a missing key is NULL. Text is sent as the
 * arrays sent it: a lone surrogate (which the server refuses inside JSON) becomes U+FFFD, as UTF-8 encoding does.
 */
export function jsonRecordset<R extends Record<string, unknown>, A extends string>(
  alias: A,
  types: { readonly [K in keyof R]: ArrayElementType },
  rows: readonly R[],
): UnnestedRows<R, A> {
  const columns = Object.keys(types) as Array<keyof R & string>;
  const definition = sql.join(columns.map((column) => sql`${sql.id(column)} ${sql.raw(types[column])}`));
  const table = sql<R>`json_to_recordset(${toJson(rows)}::json)`.as<A>(sql`${sql.id(alias)}(${definition})`);
  return { table, columns };
}

/** `JSON.stringify` stores a lone surrogate as an escape such as `\ud800`; only then is the text built again, slowly. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function toJson(rows: readonly unknown[]): string {
  const text = JSON.stringify(rows);
  if (!SURROGATE_ESCAPE.test(text)) return text;
  return JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'string' ? value.replace(LONE_SURROGATE, '\uFFFD') : value));
}
