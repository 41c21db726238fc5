import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';

/**
 * Validates JSON against the schemas of a vendor's Swagger 2 / OpenAPI 3 document kept under test/fixtures/vendor:
 * `definitions/X` or `components/schemas/X` are reached through the document's own `$ref`s. Ajv runs with
 * `strict: false` so the OpenAPI-only keywords (`example`, `x-*`, `discriminator`, `xml`) are ignored; `nullable`
 * is understood by Ajv itself.
 */
export interface VendorSpec {
  /** A validator for the schema at `pointer` (e.g. `#/definitions/ListingsItemPatchRequest`). */
  schema(pointer: string): ValidateFunction;
  /** The document itself, for reading parameters and examples. */
  readonly document: Record<string, unknown>;
}

/**
 * Generated JSON Schemas (Amazon's notification schemas) give every node an `$id` like `#/properties/X`, which
 * draft-07 does not allow as a base URI; they are annotations there, so they are dropped.
 */
function withoutNestedIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutNestedIds);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(Object.entries(node).filter(([key]) => key !== '$id' && key !== '$schema').map(([key, value]) => [key, withoutNestedIds(value)]));
}

export function loadVendorSpec(fixturePath: string): VendorSpec {
  const document = JSON.parse(readFileSync(new URL(`../fixtures/vendor/${fixturePath}`, import.meta.url), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  formats.default(ajv);
  const id = `vendor:${fixturePath}`;
  ajv.addSchema({ ...(withoutNestedIds(document) as Record<string, unknown>), $id: id }, id);
  const cache = new Map<string, ValidateFunction>();
  return {
    document,
    schema(pointer) {
      let validate = cache.get(pointer);
      if (!validate) {
        validate = ajv.compile({ $ref: `${id}${pointer}` });
        cache.set(pointer, validate);
      }
      return validate;
    },
  };
}

/** Ajv's errors in one readable line, for assertion messages. */
export const schemaErrors = (validate: ValidateFunction): string => (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');

/** The headers a document's shared parameters mark required (`components.parameters`, `in: header`), lower-cased. */
export function requiredSharedHeaders(document: Record<string, unknown>): string[] {
  const parameters = (document.components as { parameters?: Record<string, { name: string; in: string; required?: boolean }> } | undefined)?.parameters ?? {};
  return Object.values(parameters)
    .filter((p) => p.in === 'header' && p.required)
    .map((p) => p.name.toLowerCase());
}
