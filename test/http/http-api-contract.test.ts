import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import { ErrorCatalogue, type ErrorCode } from '../../core/errors.ts';
import type { Hub } from '../../core/hub.ts';
import { ERROR_BODY_SCHEMA } from '../../core/http/error-body.ts';
import { servedRoutes } from '../../core/http/http-server.ts';
import { setupTestHub, startHub, type TestHubSetup } from '../support/test-hub.ts';

const ADMIN = 'contract-admin-token-0123456789';
const READ = 'contract-read-token-0123456789';

/**
 * The official JSON Schema of OpenAPI 3.1 documents (test/fixtures/openapi/SOURCE). Its Schema Objects are
 * `{"$dynamicRef": "#meta"}`, which resolves to `$defs/schema` unless a dialect extends it (none does here);
 * ajv follows `$dynamicRef` only partly (it lands on the document's root), so the plain `$ref` it stands for
 * is written in its place.
 */
const OAS_31_SCHEMA = JSON.parse(
  readFileSync(new URL('../fixtures/openapi/oas-3.1-schema-2022-10-07.json', import.meta.url), 'utf8').replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"'),
) as Record<string, unknown>;

type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
};

let setup: TestHubSetup;
let hub: Hub;
let doc: OpenApi;

beforeAll(async () => {
  const base = await setupTestHub({ channels: [{ id: 'edge' }] });
  const config = { ...base.config, http: { host: '127.0.0.1', port: 0, protectMetrics: true, tokens: [{ token: ADMIN, scope: 'admin' }, { token: READ, scope: 'read' }] } };
  const checked = validateConfigObject(config);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  setup = { ...base, loaded: checked.loaded };
  hub = await startHub(setup);
  const res = await fetch(`${hub.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApi;
});

afterAll(async () => {
  await hub?.stop();
  await setup?.cleanup();
});

/** `/v1/dead-letters/:seq` as OpenAPI writes it: `/v1/dead-letters/{seq}` (a wildcard is `{*}`). */
const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*/g, '{*}');

describe('/openapi.json', () => {
  it('validates as an OpenAPI 3.1 document against the official schema', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    formats.default(ajv);
    const validate = ajv.compile(OAS_31_SCHEMA);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(validate(doc), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('lists every route the hub serves, with its methods, and no other', () => {
    const served = servedRoutes((hub as unknown as { http: Parameters<typeof servedRoutes>[0] }).http).map((r) => `${r.method} ${openApiPath(r.url)}`);
    const listed = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(served.length).toBeGreaterThan(15);
    expect([...listed].sort()).toEqual([...new Set(served)].sort());
  });

  it('holds JSON Schemas (2020-12) that compile, and names the error body of every error answer', () => {
    const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
    formats.default(ajv);
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const schema = response.content?.['application/json']?.schema;
          if (schema === undefined) continue;
          expect(() => ajv.compile(inline(schema, doc) as object), `${method} ${path} ${status}`).not.toThrow();
          // /healthz answers 503 with its usual body when something is down (a health report, not an error);
          // /mcp answers JSON-RPC errors past the token check, because an MCP client reads those.
          const ownErrors = path === '/healthz' || (path === '/mcp' && status === '405');
          if (Number(status) >= 400 && !ownErrors) expect(schema, `${method} ${path} ${status}`).toEqual({ $ref: '#/components/schemas/ErrorBody' });
        }
      }
    }
  });
});

/** A response schema with `#/components/schemas/X` references replaced by the schema they name. */
function inline(schema: unknown, document: OpenApi): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, document));
  if (typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
    const { $id: _id, ...rest } = document.components.schemas[ref.slice('#/components/schemas/'.length)] as Record<string, unknown>;
    return inline(rest, document);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v, document)]));
}

interface ErrorCase {
  route: string;
  method: string;
  url: string;
  token?: string;
  body?: string | Buffer;
  type?: string;
  code: ErrorCode;
  /** The field `problems` must name. */
  field?: string;
}

const json = (value: unknown): string => JSON.stringify(value);

const CASES: ErrorCase[] = [
  { route: 'GET /metrics', method: 'GET', url: '/metrics', code: 'SR_UNAUTHORIZED' },
  { route: 'GET /healthz', method: 'GET', url: '/healthz', token: READ, code: 'SR_FORBIDDEN' },
  { route: 'GET /v1/inventory/:sku', method: 'GET', url: '/v1/inventory/A-1', code: 'SR_UNAUTHORIZED' },
  { route: 'GET /v1/inventory/:sku', method: 'GET', url: '/v1/inventory/A-1', token: 'not-a-configured-token-000', code: 'SR_UNAUTHORIZED' },
  { route: 'GET /v1/inventory/:sku', method: 'GET', url: `/v1/inventory/${'X'.repeat(300)}`, token: READ, code: 'SR_INVALID_REQUEST', field: 'sku' },
  { route: 'GET /v1/inventory', method: 'GET', url: '/v1/inventory', token: READ, code: 'SR_INVALID_REQUEST', field: 'sku' },
  { route: 'GET /v1/inventory', method: 'GET', url: '/v1/inventory?sku=A&colour=red', token: READ, code: 'SR_INVALID_REQUEST', field: 'colour' },
  { route: 'POST /v1/inventory/query', method: 'POST', url: '/v1/inventory/query', token: READ, body: json({ skus: [] }), code: 'SR_INVALID_REQUEST', field: '/skus' },
  { route: 'POST /v1/inventory/query', method: 'POST', url: '/v1/inventory/query', token: READ, body: json({ skus: ['A', 7] }), code: 'SR_INVALID_REQUEST', field: '/skus/1' },
  { route: 'POST /v1/inventory/query', method: 'POST', url: '/v1/inventory/query', token: READ, body: '{"skus": [', code: 'SR_INVALID_REQUEST', field: '/' },
  { route: 'POST /v1/inventory/query', method: 'POST', url: '/v1/inventory/query', token: READ, body: '<skus/>', type: 'application/xml', code: 'SR_UNSUPPORTED_MEDIA_TYPE' },
  { route: 'POST /v1/inventory/query', method: 'POST', url: '/v1/inventory/query', token: READ, body: Buffer.alloc(3 * 1024 * 1024, 32), code: 'SR_BODY_TOO_LARGE' },
  { route: 'GET /v1/channels', method: 'GET', url: '/v1/channels', code: 'SR_UNAUTHORIZED' },
  { route: 'GET /v1/alerts', method: 'GET', url: '/v1/alerts', code: 'SR_UNAUTHORIZED' },
  { route: 'GET /v1/why/:channel/:sku', method: 'GET', url: '/v1/why/edge/A-1', code: 'SR_UNAUTHORIZED' },
  { route: 'GET /v1/why/:channel/:sku', method: 'GET', url: '/v1/why/elsewhere/A-1', token: READ, code: 'SR_CHANNEL_NOT_FOUND' },
  { route: 'GET /v1/why/:channel/:sku', method: 'GET', url: '/v1/why/edge/NEVER-SEEN', token: READ, code: 'SR_SKU_NOT_FOUND' },
  { route: 'GET /v1/why/:channel/:sku', method: 'GET', url: '/v1/why/edge/A-1?limit=0', token: READ, code: 'SR_INVALID_REQUEST', field: 'limit' },
  { route: 'GET /v1/dead-letters', method: 'GET', url: '/v1/dead-letters', token: READ, code: 'SR_FORBIDDEN' },
  { route: 'GET /v1/dead-letters', method: 'GET', url: '/v1/dead-letters?kind=order', token: ADMIN, code: 'SR_INVALID_REQUEST', field: 'kind' },
  { route: 'GET /v1/dead-letters', method: 'GET', url: '/v1/dead-letters?limit=many', token: ADMIN, code: 'SR_INVALID_REQUEST', field: 'limit' },
  { route: 'GET /v1/dead-letters/:seq', method: 'GET', url: '/v1/dead-letters/first', token: ADMIN, code: 'SR_INVALID_REQUEST', field: 'seq' },
  { route: 'GET /v1/dead-letters/:seq', method: 'GET', url: '/v1/dead-letters/999999', token: ADMIN, code: 'SR_DEAD_LETTER_NOT_FOUND' },
  { route: 'POST /v1/dead-letters/:seq/replay', method: 'POST', url: '/v1/dead-letters/999999/replay', token: ADMIN, body: json({ payld: {} }), code: 'SR_INVALID_REQUEST', field: '/payld' },
  { route: 'POST /v1/dead-letters/:seq/replay', method: 'POST', url: '/v1/dead-letters/999999/replay', token: ADMIN, body: json({}), code: 'SR_DEAD_LETTER_NOT_FOUND' },
  { route: 'POST /v1/dead-letters/:seq/replay', method: 'POST', url: '/v1/dead-letters/999999/replay', token: READ, body: json({}), code: 'SR_FORBIDDEN' },
  { route: 'DELETE /v1/dead-letters/:seq', method: 'DELETE', url: '/v1/dead-letters/999999', token: ADMIN, code: 'SR_DEAD_LETTER_NOT_FOUND' },
  { route: 'DELETE /v1/dead-letters/:seq', method: 'DELETE', url: '/v1/dead-letters/1', code: 'SR_UNAUTHORIZED' },
  { route: 'GET /v1/stream', method: 'GET', url: '/v1/stream', code: 'SR_UNAUTHORIZED' },
  { route: 'GET /v1/stream', method: 'GET', url: `/v1/stream?token=${ADMIN}`, code: 'SR_FORBIDDEN' },
  { route: 'POST /webhooks/:channel', method: 'POST', url: '/webhooks/elsewhere', body: json({}), code: 'SR_WEBHOOK_CHANNEL_UNKNOWN' },
  { route: 'POST /webhooks/:channel', method: 'POST', url: '/webhooks/edge', body: json({ order: {} }), code: 'SR_WEBHOOK_SIGNATURE' },
  { route: 'POST /webhooks/:channel/*', method: 'POST', url: '/webhooks/elsewhere/orders', body: json({}), code: 'SR_WEBHOOK_CHANNEL_UNKNOWN' },
  { route: 'GET /webhooks/:channel', method: 'GET', url: '/webhooks/elsewhere', code: 'SR_WEBHOOK_CHANNEL_UNKNOWN' },
  { route: 'POST /mcp', method: 'POST', url: '/mcp', body: json({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), code: 'SR_UNAUTHORIZED' },
  { route: 'GET /mcp', method: 'GET', url: '/mcp', code: 'SR_UNAUTHORIZED' },
  { route: 'DELETE /mcp', method: 'DELETE', url: '/mcp', token: 'not-a-configured-token-000', code: 'SR_UNAUTHORIZED' },
  { route: '(none)', method: 'GET', url: '/v2/inventory/A-1', token: READ, code: 'SR_ROUTE_NOT_FOUND' },
  { route: '(none)', method: 'PUT', url: '/v1/inventory/A-1', token: READ, code: 'SR_ROUTE_NOT_FOUND' },
];

/** Routes without an error of their own: static files, a redirect and this document. */
const NO_ERROR_PATHS = new Set(['GET /dashboard', 'GET /dashboard/app.js', 'GET /dashboard/charts.js', 'GET /dashboard/human-format.js', 'GET /dashboard/app.css', 'GET /dashboard/', 'GET /openapi.json']);

describe('error answers', () => {
  const ajv = new Ajv2020({ strict: false });
  const isErrorBody = ajv.compile(ERROR_BODY_SCHEMA);

  it('are driven here for every route that has any', () => {
    const driven = new Set(CASES.map((c) => c.route));
    const expected = servedRoutes((hub as unknown as { http: Parameters<typeof servedRoutes>[0] }).http).map((r) => `${r.method} ${r.url}`).filter((r) => !NO_ERROR_PATHS.has(r));
    expect([...new Set(expected)].filter((r) => !driven.has(r))).toEqual([]);
  });

  it.each(CASES.map((c) => [`${c.method} ${c.url.slice(0, 60)} → ${c.code}`, c] as const))('%s', async (_name, c) => {
    const headers: Record<string, string> = {};
    if (c.token) headers.authorization = `Bearer ${c.token}`;
    if (c.body !== undefined) headers['content-type'] = c.type ?? 'application/json';
    const res = await fetch(`${hub.url}${c.url}`, { method: c.method, headers, body: c.body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    const body = JSON.parse(text) as { statusCode: number; code: string; problems?: Array<{ path: string }> };
    expect(isErrorBody(body), `${text}\n${JSON.stringify(isErrorBody.errors)}`).toBe(true);
    expect(body.code).toBe(c.code);
    const entry = Object.values(ErrorCatalogue).find((e) => e.code === c.code)!;
    expect(res.status).toBe(entry.status);
    expect(body.statusCode).toBe(entry.status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    if (c.field !== undefined) expect(body.problems?.map((p) => p.path)).toContain(c.field);
    if (c.token) expect(text).not.toContain(c.token);
  });

  it('answer a signed webhook the connector cannot read with SR_WEBHOOK_PAYLOAD', async () => {
    const raw = Buffer.from('not json');
    const signed = setup.simulators.get('edge')!.signWebhook!(raw);
    const res = await fetch(`${hub.url}/webhooks/edge`, { method: 'POST', headers: { 'content-type': 'application/json', ...signed }, body: raw });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ statusCode: 400, code: 'SR_WEBHOOK_PAYLOAD', error: 'Bad Request', message: 'channel "edge": body is not JSON' });
  });
});
