import { sql, type AliasedRawBuilder } from 'kysely';

/** The PostgreSQL element types the ledger sends as arrays. */
export type ArrayElementType = 'text' | 'int' | 'int8' | 'float8' | 'timestamptz';

/** Rows as a table expression, and its column names in the order the expression yields them. */
export interface UnnestedRows<R, A extends string> {
  table: AliasedRawBuilder<R, A>;
  columns: Array<keyof R & string>;
}

/**
 * Rows as the table expression `unnest($1::text[], $2::int8[], …) AS alias(col, …)`, to select, insert or
 * update from with the query builder. Each column is one array parameter however many rows there are, so a
 * batch of any size is one statement of the same text and stays far below the server's parameter limit
 * (a multi-row VALUES list takes one parameter per cell). `columns` follows the order of `types`, which is
 * also the order of the expression's columns: an INSERT may give it as its column list and `selectAll()`.
 */
export function unnestRows<R extends Record<string, unknown>, A extends string>(
  alias: A,
  types: { readonly [K in keyof R]: ArrayElementType },
  rows: readonly R[],
): UnnestedRows<R, A> {
  const columns = Object.keys(types) as Array<keyof R & string>;
  const arrays = columns.map((column) => sql`${rows.map((row) => row[column])}::${sql.raw(types[column])}[]`);
  const table = sql<R>`unnest(${sql.join(arrays)})`.as<A>(sql`${sql.id(alias)}(${sql.join(columns.map((column) => sql.id(column)))})`);
  return { table, columns };
}
