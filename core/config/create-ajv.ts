import { Ajv } from 'ajv';
import type { Options } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { JsonSchema } from '../sdk.ts';

/** The JSON Schema dialects the hub understands. */
export type SchemaDialect = 'draft-07' | '2019-09' | '2020-12';

export interface AjvSettings {
  /** Fill in `default`s from the schema (the validated data is changed in place). */
  useDefaults: boolean;
  /** Refuse schemas with unknown keywords. Off for third-party schemas, which may carry annotations. */
  strict: boolean;
  dialect?: SchemaDialect;
  /**
   * Coerce strings to the schema's type, and single values to arrays (`?sku=a` is `["a"]`): for query
   * strings and path parameters, which arrive as text. Never for JSON bodies.
   */
  coerceTypes?: 'array';
}

export type AnyAjv = Ajv | Ajv2019 | Ajv2020;

/**
 * An ajv instance set up the way every stockrelay boundary validates: all errors at once (a user fixes
 * a file in one pass), `verbose` so messages can quote the offending value, and the standard formats.
 */
export function createAjv(settings: AjvSettings): AnyAjv {
  const options: Options = {
    allErrors: true,
    verbose: true,
    useDefaults: settings.useDefaults,
    strict: settings.strict,
    // `type: ["string", "null"]` is how a nullable field is written in JSON Schema (and OpenAPI 3.1).
    allowUnionTypes: true,
    ...(settings.coerceTypes ? { coerceTypes: settings.coerceTypes } : {}),
  };
  const dialect = settings.dialect ?? 'draft-07';
  const ajv = dialect === '2020-12' ? new Ajv2020(options) : dialect === '2019-09' ? new Ajv2019(options) : new Ajv(options);
  formats.default(ajv);
  return ajv;
}

/** The dialect a schema declares with `$schema`; draft-07 when it declares none. */
export function schemaDialect(schema: JsonSchema): SchemaDialect {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (declared.includes('2020-12')) return '2020-12';
  if (declared.includes('2019-09')) return '2019-09';
  return 'draft-07';
}
