import type { JsonSchema } from '../sdk.ts';

/**
 * The string values of `value` that `schema` marks secret with the standard `writeOnly: true` keyword
 * (JSON Schema's "sent to the server, never read back"), at any depth: properties, additional
 * properties, array items, `allOf`/`anyOf`/`oneOf` branches and local `$ref`s. Everything under a
 * `writeOnly` schema counts (a list of rotating secrets, an object of credentials).
 */
export function writeOnlyValues(schema: JsonSchema, value: unknown): string[] {
  const out: string[] = [];
  walk(schema, value, schema, out, 0);
  return [...new Set(out)];
}

function walk(schema: unknown, value: unknown, root: JsonSchema, out: string[], depth: number): void {
  if (!isRecord(schema) || value === undefined || depth > 32) return;
  if (schema.writeOnly === true) {
    strings(value, out);
    return;
  }
  if (typeof schema.$ref === 'string') walk(resolveLocalRef(root, schema.$ref), value, root, out, depth + 1);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) for (const branch of branches) walk(branch, value, root, out, depth + 1);
  }
  if (isRecord(value)) {
    const properties = isRecord(schema.properties) ? schema.properties : {};
    for (const [key, item] of Object.entries(value)) {
      if (key in properties) walk(properties[key], item, root, out, depth + 1);
      else if (isRecord(schema.additionalProperties)) walk(schema.additionalProperties, item, root, out, depth + 1);
    }
  } else if (Array.isArray(value) && isRecord(schema.items)) {
    for (const item of value) walk(schema.items, item, root, out, depth + 1);
  }
}

function strings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (isRecord(value)) for (const item of Object.values(value)) strings(item, out);
}

/** `#/definitions/x`, `#/$defs/x` and other pointers into the same schema; anything else is not followed. */
function resolveLocalRef(root: JsonSchema, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isRecord(node) ? node[key] : undefined;
  }
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
