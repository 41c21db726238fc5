import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RecordedRequest } from './recording-proxy.ts';

/**
 * Checks requests and responses against a vendor's published OpenAPI 3.0 document (kept under
 * test/fixtures/vendor/<channel>/). OpenAPI 3.0 schemas are JSON Schema with a few extra keywords:
 * `nullable` is understood by ajv; `example`, `format: float` and friends are annotations here.
 */
type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Json;
}

interface Operation {
  parameters?: Array<Parameter | { $ref: string }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> } | { $ref: string };
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, unknown>;
}

export interface OpenApiContract {
  /** Every way `request` departs from the document; empty when it fits. `basePath` is stripped first (the server URL's path). */
  checkRequest(request: RecordedRequest): string[];
  /** Every way a JSON response body departs from the documented schema for its operation and status. */
  checkResponse(method: string, path: string, status: number, body: unknown): string[];
}

const escapePointer = (segment: string): string => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));

export function loadOpenApiContract(fixture: URL, options: { basePath?: string } = {}): OpenApiContract {
  const doc = JSON.parse(readFileSync(fixture, 'utf8')) as Json & { paths: Record<string, Record<string, Operation & { parameters?: Parameter[] }>>; components?: Json };
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false });
  ajv.addSchema(doc, 'oas');
  const compiled = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string): ValidateFunction => {
    let fn = compiled.get(pointer);
    if (!fn) {
      fn = ajv.compile({ $ref: `oas#${pointer}` });
      compiled.set(pointer, fn);
    }
    return fn;
  };
  const inline = new Map<string, ValidateFunction>();
  /** A parameter's own schema (a `$ref` to a component resolves inside the document). */
  const inlineValidator = (schema: Json): ValidateFunction => {
    const key = JSON.stringify(schema);
    let fn = inline.get(key);
    if (!fn) {
      fn = ajv.compile(typeof schema.$ref === 'string' ? { $ref: `oas${schema.$ref}` } : schema);
      inline.set(key, fn);
    }
    return fn;
  };
  const deref = <T>(value: T | { $ref: string }): T => {
    if (value && typeof value === 'object' && '$ref' in value) {
      let node: unknown = doc;
      for (const part of value.$ref.replace(/^#\//, '').split('/')) node = (node as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      return node as T;
    }
    return value as T;
  };
  const problemsOf = (fn: ValidateFunction, data: unknown, where: string): string[] =>
    fn(data) ? [] : (fn.errors ?? []).map((e) => `${where}${e.instancePath} ${e.message ?? 'is invalid'}`);

  /** The path template of the document that `path` matches, with its path parameters. */
  const match = (method: string, path: string): { template: string; op: Operation; params: Record<string, string> } | undefined => {
    for (const [template, item] of Object.entries(doc.paths)) {
      const op = item[method.toLowerCase()];
      if (!op) continue;
      const names: string[] = [];
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
      const found = pattern.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      names.forEach((name, i) => (params[name] = decodeURIComponent(found[i + 1]!)));
      return { template, op, params };
    }
    return undefined;
  };

  /** A parameter value as the schema types it (path and query values arrive as text). */
  const typed = (value: string, schema: Json | undefined): unknown => {
    const type = schema?.type;
    if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
    return value;
  };

  return {
    checkRequest(request) {
      const url = new URL(request.url, 'http://x');
      const rawBody = Buffer.from(request.body, 'utf8');
      let path = url.pathname;
      if (options.basePath && path.startsWith(options.basePath)) path = path.slice(options.basePath.length);
      const found = match(request.method, path);
      if (!found) return [`${request.method} ${path} is not an operation of the document`];
      const { template, op, params } = found;
      const problems: string[] = [];
      const itemParams = (doc.paths[template] as { parameters?: Array<Parameter | { $ref: string }> }).parameters ?? [];
      const parameters = [...itemParams, ...(op.parameters ?? [])].map((p) => deref<Parameter>(p));
      for (const p of parameters) {
        const raw =
          p.in === 'path' ? params[p.name] : p.in === 'query' ? (url.searchParams.get(p.name) ?? undefined) : p.in === 'header' ? request.headers[p.name.toLowerCase()] : undefined;
        if (raw === undefined) {
          if (p.required) problems.push(`${p.in} parameter ${p.name} is required`);
          continue;
        }
        if (p.schema) problems.push(...problemsOf(inlineValidator(p.schema), typed(raw, p.schema), `${p.in} parameter ${p.name}`));
      }
      for (const requirement of op.security ?? (doc.security as Operation['security']) ?? []) {
        for (const scheme of Object.keys(requirement)) {
          const definition = ((doc.components as Json | undefined)?.securitySchemes as Record<string, Json> | undefined)?.[scheme];
          if (definition?.type === 'apiKey' && definition.in === 'header' && request.headers[String(definition.name).toLowerCase()] === undefined) {
            problems.push(`security ${scheme}: header ${String(definition.name)} is required`);
          }
          if (definition?.type === 'oauth2' && !/^Bearer \S+/.test(String(request.headers.authorization ?? ''))) problems.push(`security ${scheme}: Authorization: Bearer is required`);
        }
      }
      const body = op.requestBody ? deref(op.requestBody) : undefined;
      if (body && 'content' in body) {
        if (rawBody.length === 0) {
          if (body.required) problems.push('a request body is required');
        } else {
          const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim();
          const media = body.content?.[type];
          if (!media) problems.push(`Content-Type ${type || '(none)'} is not one of ${Object.keys(body.content ?? {}).join(', ')}`);
          else if (media.schema) {
            const pointer = `/paths/${escapePointer(template)}/${request.method.toLowerCase()}/requestBody/content/${escapePointer(type)}/schema`;
            problems.push(...problemsOf(validatorAt(pointer), JSON.parse(request.body), 'body'));
          }
        }
      } else if (rawBody.length > 0) {
        problems.push('the operation takes no request body');
      }
      return problems;
    },
    checkResponse(method, path, status, body) {
      let local = path;
      if (options.basePath && local.startsWith(options.basePath)) local = local.slice(options.basePath.length);
      const found = match(method, local.split('?')[0]!);
      if (!found) return [`${method} ${local} is not an operation of the document`];
      const response = deref((found.op.responses ?? {})[String(status)] as Json | { $ref: string } | undefined) as { content?: Record<string, { schema?: Json }> } | undefined;
      if (!response) return [`status ${status} is not documented for ${method} ${found.template}`];
      const [type, media] = Object.entries(response.content ?? {})[0] ?? [];
      if (!type || !media?.schema) return [];
      const statusKey = Object.keys(found.op.responses ?? {}).includes(String(status)) ? String(status) : 'default';
      const direct = (found.op.responses ?? {})[statusKey] as Json;
      const base = '$ref' in direct ? String(direct.$ref).slice(1) : `/paths/${escapePointer(found.template)}/${method.toLowerCase()}/responses/${statusKey}`;
      return problemsOf(validatorAt(`${base}/content/${escapePointer(type)}/schema`), body, 'response');
    },
  };
}
