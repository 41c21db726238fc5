import type { ValidateFunction } from 'ajv';
import type { ConnectorDefinition, JsonSchema } from '../sdk.ts';
import type { Problem } from '../errors.ts';
import { createAjv, schemaDialect } from '../config/create-ajv.ts';
import { problemsFromAjv } from '../config/ajv-problems.ts';
import { deepFreeze } from '../config/deep-freeze.ts';

// One compiled validator per schema object: a connector used by several channels is compiled once.
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/**
 * Compiles a connector's `optionsSchema` (draft-07 unless it declares 2019-09 or 2020-12 in `$schema`).
 * Throws ajv's error when the schema itself is not valid JSON Schema.
 */
export function compileOptionsSchema(schema: JsonSchema): ValidateFunction {
  const cached = compiled.get(schema);
  if (cached) return cached;
  // Third-party schemas may carry annotations ajv does not know, so strict mode stays off; a fresh
  // instance per schema keeps two plugins declaring the same `$id` from colliding.
  const validate = createAjv({ useDefaults: true, strict: false, dialect: schemaDialect(schema) }).compile(schema);
  compiled.set(schema, validate);
  return validate;
}

/**
 * Checks a channel's options against its connector's schema. `options` is not changed: on success the
 * result is a frozen copy with the schema's defaults filled in. Problem paths read `options/apiKey`.
 */
export function validateConnectorOptions(
  definition: Pick<ConnectorDefinition, 'optionsSchema'>,
  options: unknown,
): { ok: true; options: Readonly<Record<string, unknown>> } | { ok: false; problems: Problem[] } {
  const validate = compileOptionsSchema(definition.optionsSchema);
  const copy = structuredClone(options);
  if (!validate(copy)) return { ok: false, problems: problemsFromAjv(validate.errors, 'options') };
  return { ok: true, options: deepFreeze(copy as Record<string, unknown>) };
}
