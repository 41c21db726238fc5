import { createHash } from 'node:crypto';
import pg from 'pg';

/** Distinct statement texts one pool prepares at most; any beyond run unnamed, as before. */
const MAX_PREPARED_TEXTS = 64;

type QueryArgs = unknown[];
type ClientConstructor = new (config?: string | pg.ClientConfig) => { query(...args: QueryArgs): unknown };

/**
 * A `pg` client class whose parameterised statements run as named prepared statements, one name per text.
 *
 * The ledger's write path sends two statements per batch whose text never changes (every batch's rows
 * travel as parameters, see json-recordset.ts), yet unnamed they are parsed and planned again every time:
 * planning the write statement alone took about a tenth of its execution under load. Named, each
 * connection parses it once and the server can keep its plan. A statement is named after a hash of its
 * text, so two texts never share a name; the number of texts is bounded, so a caller that builds texts
 * per call cannot grow every connection's statement cache without limit (past the bound it runs unnamed).
 * Calls other than `query(text, values)` (cursors, configs, callbacks) pass through untouched.
 */
export function preparingClient(): typeof pg.Client {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < MAX_PREPARED_TEXTS) {
      name = `stockrelay_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      names.set(text, name);
    }
    return name;
  };
  const Base = pg.Client as unknown as ClientConstructor;
  class PreparingClient extends Base {
    override query(...args: QueryArgs): unknown {
      const [text, values] = args;
      if (args.length === 2 && typeof text === 'string' && Array.isArray(values)) {
        const name = nameOf(text);
        if (name !== undefined) return super.query({ name, text, values });
      }
      return super.query(...args);
    }
  }
  return PreparingClient as unknown as typeof pg.Client;
}
