import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';

/**
 * Validators for request and response bodies against a vendor's OpenAPI 3.0 document, for contract tests.
 *
 * OpenAPI 3.0 schemas are almost JSON Schema: `nullable` and `example` are converted or dropped, and
 * `#/components/schemas/X` references point into `definitions`. With `closed: true` every object that lists
 * its properties refuses others (OpenAPI leaves them open by default), so a body carrying a field the vendor
 * never defined fails, which is what catches invented fields.
 */
export interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required?: boolean }>; requestBody?: { content?: Record<string, { schema?: unknown }> } }>>;
  components: { schemas: Record<string, unknown> };
}

type Json = unknown;

function convert(node: Json, closed: boolean): Json {
  if (Array.isArray(node)) return node.map((n) => convert(n, closed));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node as Record<string, Json>)) {
    if (key === 'example' || key === 'examples' || key === 'nullable' || key.startsWith('x-')) continue;
    if (key === 'description') continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace('#/components/schemas/', '#/definitions/');
      continue;
    }
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, Json>).map(([name, schema]) => [name, convert(schema, closed)]));
      continue;
    }
    out[key] = convert(value, closed);
  }
  const source = node as Record<string, Json>;
  if (source.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (closed && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export function loadOpenApi(path: URL | string): OpenApiDocument {
  return JSON.parse(readFileSync(path, 'utf8')) as OpenApiDocument;
}

/** A validator for `#/components/schemas/<name>` of `doc`. */
export function schemaValidator(doc: OpenApiDocument, name: string, options: { closed?: boolean } = {}): ValidateFunction {
  const closed = options.closed ?? true;
  const definitions = Object.fromEntries(Object.entries(doc.components.schemas).map(([key, schema]) => [key, convert(schema, closed)]));
  const ajv = new Ajv({ allErrors: true, strict: false });
  formats.default(ajv);
  return ajv.compile({ $ref: `#/definitions/${name}`, definitions });
}

/** The header parameters the document marks required for `method path` (lower-cased names). */
export function requiredHeaders(doc: OpenApiDocument, path: string, method: string): string[] {
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`no operation ${method} ${path} in the document`);
  return (operation.parameters ?? []).filter((p) => p.in === 'header' && p.required).map((p) => p.name.toLowerCase());
}

/** The request body schema name of `method path` (its `application/json` `$ref`). */
export function requestSchemaName(doc: OpenApiDocument, path: string, method: string): string {
  const schema = doc.paths[path]?.[method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema as { $ref?: string } | undefined;
  if (!schema?.$ref) throw new Error(`no JSON request body for ${method} ${path}`);
  return schema.$ref.replace('#/components/schemas/', '');
}
