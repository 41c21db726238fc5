import type { FastifySchema } from 'fastify';
import { MAX_QUERY_SKUS, MAX_SKU_LENGTH } from '../features/read/sku-query.ts';

/**
 * The route schemas of the hub's HTTP API, one per route: what a request may carry (validated with ajv
 * before the handler runs; a request that breaks them answers `SR_INVALID_REQUEST` naming each field) and
 * what each answer looks like. `/openapi.json` is generated from them.
 *
 * Answer schemas describe; they do not filter: the hub serializes answers with `JSON.stringify`
 * (see `http-server.ts`), so a field a feature adds is never dropped silently.
 */

type Schema = Record<string, unknown>;

/** The one error body, as registered by `installErrorAnswers`. */
const errorBody: Schema = { $ref: 'ErrorBody#' };
const errors = (...statuses: number[]): Record<number, Schema> => Object.fromEntries(statuses.map((status) => [status, errorBody]));

/** A bearer token is needed; each route's summary says which scope. */
const TOKEN = [{ bearer: [] }];
const isoTime: Schema = { type: 'string', format: 'date-time' };
const isoTimeOrNull: Schema = { type: ['string', 'null'], format: 'date-time' };
const sku: Schema = { type: 'string', minLength: 1, maxLength: MAX_SKU_LENGTH };
const skuList: Schema = { type: 'array', minItems: 1, maxItems: MAX_QUERY_SKUS, items: sku };
const channelParam: Schema = { type: 'string', minLength: 1, description: 'A channel id from the config.' };

/** A read-back: what the channel showed when the hub last read it, and when. */
function readBack(description: string): Schema {
  return {
    type: 'object',
    description,
    required: ['shown', 'readAt'],
    properties: { shown: { type: 'integer', description: 'The quantity the channel showed.' }, readAt: isoTime },
  };
}

const channelInventoryStatus: Schema = {
  type: 'object',
  required: ['channel', 'shown', 'target', 'confirmedAt', 'pushedVersion', 'versionsBehind', 'msBehind', 'state'],
  properties: {
    channel: { type: 'string' },
    shown: { type: ['integer', 'null'], description: 'The quantity the channel last confirmed showing; null when it never confirmed one.' },
    target: { type: 'integer', description: "What the channel's rules (and forecast, when it has one) say it should show for the ledger quantity now." },
    forecast: {
      type: 'object',
      description: 'Present when a forecast holds back units on this channel now (target is allowed less hidden), or this channel alone offers the last units (lastUnitsOn).',
      required: ['allowed', 'hidden', 'salesPerSecond', 'horizonMs'],
      properties: {
        allowed: { type: 'integer', minimum: 0, description: 'What the rules allow without the forecast.' },
        hidden: { type: 'integer', minimum: 0, description: "Units held back: the sales expected before the channel's next refresh can land (bounded)." },
        salesPerSecond: { type: 'number', minimum: 0 },
        horizonMs: { type: 'number', minimum: 0 },
        lastUnitsOn: { type: 'string', description: 'The one channel offering the last units while forecasts hide them on every other: this one (it shows what the rules allow) or another (this one shows 0 meanwhile).' },
      },
    },
    confirmedAt: isoTimeOrNull,
    pushedVersion: { type: 'integer', minimum: 0 },
    versionsBehind: { type: 'integer', minimum: 0 },
    msBehind: { type: 'number', minimum: 0 },
    state: { type: 'string', enum: ['in_sync', 'pending', 'throttled', 'failing', 'dead_lettered', 'not_listed', 'unverified'] },
    lastError: { type: 'string', description: 'The gist of the last push error, while the channel is failing or dead-lettered for this SKU.' },
    notListedReason: { type: 'string' },
    readBack: readBack('What the channel itself showed when last read back, and when; absent when never read back.'),
  },
};

const inventoryStatus: Schema = {
  type: 'object',
  description: 'The ledger quantity of one SKU, its version and time, and per channel what it shows and how far behind it is.',
  required: ['sku', 'known', 'available', 'version', 'updatedAt', 'channels', 'summary'],
  properties: {
    sku: { type: 'string' },
    known: { type: 'boolean', description: 'False when the ledger has never held the SKU.' },
    available: { type: 'integer', minimum: 0 },
    version: { type: 'integer', minimum: 0 },
    updatedAt: isoTimeOrNull,
    channels: { type: 'array', items: channelInventoryStatus },
    summary: {
      type: 'object',
      required: ['channelsInSync', 'channels', 'shareInSync', 'oldestUnconfirmedAt', 'maxMsBehind', 'confidence'],
      properties: {
        channelsInSync: { type: 'integer', minimum: 0 },
        channels: { type: 'integer', minimum: 0 },
        shareInSync: { type: 'number', minimum: 0, maximum: 1 },
        oldestUnconfirmedAt: isoTimeOrNull,
        maxMsBehind: { type: 'number', minimum: 0 },
        confidence: { type: 'number', minimum: 0, maximum: 1 },
      },
    },
  },
};

const inventoryItems: Schema = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: inventoryStatus } } };

const channelSummary: Schema = {
  type: 'object',
  required: ['channel', 'connector', 'pending', 'inFlight', 'deadLettered', 'throttledUntil', 'oldestPendingAt', 'successRatio', 'throttles', 'lag'],
  properties: {
    channel: { type: 'string' },
    connector: { type: 'string' },
    pending: { type: 'integer', minimum: 0 },
    inFlight: { type: 'integer', minimum: 0 },
    deadLettered: { type: 'integer', minimum: 0 },
    throttledUntil: isoTimeOrNull,
    oldestPendingAt: isoTimeOrNull,
    successRatio: { type: 'number', minimum: 0, maximum: 1 },
    throttles: { type: 'number', minimum: 0 },
    lag: {
      type: 'object',
      required: ['p50', 'p99', 'samples'],
      properties: { p50: { type: ['number', 'null'] }, p99: { type: ['number', 'null'] }, samples: { type: 'integer', minimum: 0 } },
    },
  },
};

const alert: Schema = {
  type: 'object',
  required: ['id', 'kind', 'severity', 'firing', 'since', 'value', 'threshold', 'message'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['sync_lag', 'oversell', 'success_rate', 'dead_letters', 'consumer_backlog'] },
    channel: { type: 'string' },
    severity: { type: 'string', enum: ['warning', 'critical'] },
    firing: { type: 'boolean' },
    since: isoTime,
    resolvedAt: isoTime,
    value: { type: 'number' },
    threshold: { type: 'number' },
    message: { type: 'string' },
  },
};

const deadLetter: Schema = {
  type: 'object',
  required: ['seq', 'subject', 'kind', 'channelId', 'sku', 'eventId', 'reason', 'at', 'storedAt', 'letter'],
  properties: {
    seq: { type: 'integer', minimum: 1 },
    subject: { type: 'string' },
    kind: { type: 'string', enum: ['event', 'push'] },
    channelId: { type: ['string', 'null'] },
    sku: { type: ['string', 'null'] },
    eventId: { type: ['string', 'null'] },
    reason: { type: 'string' },
    at: isoTime,
    storedAt: isoTime,
    letter: { type: 'object', description: 'The whole letter as published.' },
  },
};

const seqParams: Schema = {
  type: 'object',
  required: ['seq'],
  additionalProperties: false,
  properties: { seq: { type: 'string', pattern: '^[0-9]+$', description: 'The letter\'s stream sequence number.' } },
};

const replayResult: Schema = {
  type: 'object',
  required: ['seq', 'kind', 'outcome'],
  properties: {
    seq: { type: 'integer' },
    kind: { type: 'string', enum: ['event', 'push'] },
    outcome: { type: 'string', enum: ['republished', 'already-applied', 'requeued', 'in-sync'] },
    eventId: { type: ['string', 'null'] },
    subject: { type: 'string' },
    msgId: { type: 'string' },
    streamSeq: { type: ['integer', 'null'] },
    channelId: { type: 'string' },
    sku: { type: 'string' },
  },
};

const whyStep: Schema = { type: 'object', description: 'One ledger change: the event, its time and the quantities it left.' };

const whyReport: Schema = {
  type: 'object',
  description: 'The answer of `stockrelay why`: the events, rule and confirmed push behind what a channel shows.',
  required: ['channelId', 'sku', 'connector', 'rules', 'ledger', 'confirmed', 'derivation', 'state', 'chain', 'pending'],
  properties: {
    channelId: { type: 'string' },
    sku: { type: 'string' },
    connector: { type: 'string' },
    rules: { type: 'object' },
    ledger: { type: ['object', 'null'] },
    confirmed: { type: 'object' },
    derivation: { type: 'object' },
    state: { type: 'string', enum: ['in-sync', 'pending', 'dead-lettered', 'never-pushed', 'not-listed', 'unverified'] },
    deadLettered: { type: ['object', 'null'] },
    notListed: { type: ['object', 'null'] },
    unverifiedUntil: isoTimeOrNull,
    readBack: { anyOf: [readBack('What the channel showed when last read back, next to `confirmed`; null when never read back.'), { type: 'null' }] },
    chain: { type: 'array', items: whyStep },
    chainTruncated: { type: 'boolean' },
    pending: { type: 'array', items: whyStep },
    pendingTruncated: { type: 'boolean' },
  },
};

const health: Schema = {
  type: 'object',
  required: ['ok', 'checks'],
  properties: { ok: { type: 'boolean' }, checks: { type: 'object', description: 'Database, NATS, backlog and each dispatcher.' } },
};

const webhookParams: Schema = { type: 'object', required: ['channel'], properties: { channel: channelParam, '*': { type: 'string' } } };
const webhookAnswer: Schema = {
  description: 'The events were stored: `{ accepted: n }`, or the answer the channel expects (a challenge echo).',
};

/** Route schemas by route, shared by the route's registration and `/openapi.json`. */
export const ROUTE_SCHEMAS = {
  metrics: {
    tags: ['operations'],
    summary: 'Prometheus metrics',
    description: 'Needs a `metrics` or `admin` token when `http.protectMetrics` is on.',
    response: { 200: { description: 'Prometheus text exposition format.', type: 'string' }, ...errors(401, 403) },
  },
  healthz: {
    tags: ['operations'],
    summary: 'Database, NATS, backlog and each dispatcher',
    description: 'Needs a `metrics` or `admin` token when `http.protectMetrics` is on. 503 with the same body when something is down.',
    response: { 200: health, 503: health, ...errors(401, 403) },
  },
  webhook: {
    tags: ['webhooks'],
    summary: "A channel's webhook",
    description: "The raw body is checked against the channel's signature before anything is parsed; the connector turns it into events.",
    params: webhookParams,
    response: { 200: webhookAnswer, ...errors(400, 401, 404, 413, 503) },
  },
  inventoryOne: {
    tags: ['read'],
    summary: 'Stock of one SKU, with per-channel freshness',
    description: 'An unknown SKU answers 200 with `known: false`.',
    security: TOKEN,
    params: { type: 'object', required: ['sku'], additionalProperties: false, properties: { sku } },
    response: { 200: inventoryStatus, ...errors(400, 401, 403) },
  },
  inventoryMany: {
    tags: ['read'],
    summary: 'Stock of several SKUs (`?sku=a&sku=b`), in the order asked',
    security: TOKEN,
    querystring: { type: 'object', required: ['sku'], additionalProperties: false, properties: { sku: skuList } },
    response: { 200: inventoryItems, ...errors(400, 401, 403) },
  },
  inventoryQuery: {
    tags: ['read'],
    summary: 'Stock of up to 500 SKUs, in the order asked',
    security: TOKEN,
    body: { type: 'object', required: ['skus'], additionalProperties: false, properties: { skus: skuList } },
    response: { 200: inventoryItems, ...errors(400, 401, 403, 413, 415) },
  },
  channels: {
    tags: ['read'],
    summary: 'Every channel with its dispatch state, success ratio and recent lag',
    security: TOKEN,
    response: { 200: { type: 'object', required: ['channels'], properties: { channels: { type: 'array', items: channelSummary } } }, ...errors(401, 403) },
  },
  alerts: {
    tags: ['read'],
    summary: 'Firing alerts first, then those cleared in the last 15 minutes',
    security: TOKEN,
    response: {
      200: { type: 'object', required: ['evaluatedAt', 'alerts'], properties: { evaluatedAt: isoTimeOrNull, alerts: { type: 'array', items: alert } } },
      ...errors(401, 403),
    },
  },
  why: {
    tags: ['read'],
    summary: 'Why a channel shows the quantity it shows',
    security: TOKEN,
    params: { type: 'object', required: ['channel', 'sku'], additionalProperties: false, properties: { channel: channelParam, sku } },
    querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Most changes of the chain to show.' } } },
    response: { 200: whyReport, ...errors(400, 401, 403, 404) },
  },
  deadLetterList: {
    tags: ['admin'],
    summary: 'A page of dead letters (admin token)',
    security: TOKEN,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { type: 'string', enum: ['event', 'push'] },
        channel: { type: 'string', description: 'Push letters of this channel, and event letters whose event names it.' },
        after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'The `next` of the previous page.' },
        limit: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Letters per page (default 50).' },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['letters', 'next', 'total'],
        properties: { letters: { type: 'array', items: deadLetter }, next: { type: ['integer', 'null'] }, total: { type: ['integer', 'null'] } },
      },
      ...errors(400, 401, 403),
    },
  },
  deadLetterShow: {
    tags: ['admin'],
    summary: 'One dead letter (admin token)',
    security: TOKEN,
    params: seqParams,
    response: { 200: deadLetter, ...errors(400, 401, 403, 404) },
  },
  deadLetterReplay: {
    tags: ['admin'],
    summary: 'Replay a dead letter, optionally with a corrected event (admin token)',
    description: 'A push letter is pushed again with the ledger\'s current quantity; an event letter goes through the same exactly-once path as any event.',
    security: TOKEN,
    params: seqParams,
    body: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { payload: { description: 'The corrected event to publish instead of the letter\'s own.' } },
    },
    response: { 200: replayResult, ...errors(400, 401, 403, 404, 409, 413, 415) },
  },
  deadLetterDiscard: {
    tags: ['admin'],
    summary: 'Delete a dead letter (admin token)',
    security: TOKEN,
    params: seqParams,
    response: {
      200: { type: 'object', required: ['seq', 'discarded'], properties: { seq: { type: 'integer' }, discarded: { const: true } } },
      ...errors(400, 401, 403, 404),
    },
  },
  dashboardAsset: {
    tags: ['dashboard'],
    summary: 'The live dashboard (page, script or stylesheet); served without a token, it holds no data',
    response: { 200: { description: 'The file.', type: 'string' } },
  },
  dashboardRedirect: {
    tags: ['dashboard'],
    summary: 'Redirects to /dashboard',
    response: { 302: { description: 'To /dashboard.', type: 'null' } },
  },
  stream: {
    tags: ['dashboard'],
    summary: 'Server-sent events: one `snapshot` event per second',
    description: 'The browser\'s EventSource cannot send headers, so this route also takes a read token as `?token=` (read tokens only).',
    security: TOKEN,
    querystring: { type: 'object', properties: { token: { type: 'string', description: 'A read token, for EventSource.' } } },
    response: { 200: { description: '`text/event-stream`', type: 'string' }, ...errors(401, 403) },
  },
  mcp: {
    tags: ['read'],
    summary: 'The MCP server for AI agents (Streamable HTTP, stateless; read token)',
    description:
      'JSON-RPC 2.0 requests of the Model Context Protocol, answered with JSON. Past the token check, errors are JSON-RPC error objects, ' +
      'as an MCP client expects. GET and DELETE answer 405: there are no sessions and no server-sent stream.',
    security: TOKEN,
    body: { type: 'object', description: 'A JSON-RPC 2.0 request (or a batch of them).' },
    response: { 200: { description: 'A JSON-RPC 2.0 response.', type: 'object' }, 405: { description: 'A JSON-RPC error: only POST is served.' }, ...errors(401, 403) },
  },
  mcpOtherMethods: {
    tags: ['read'],
    summary: 'Not served: the MCP endpoint takes POST only',
    security: TOKEN,
    response: { 405: { description: 'A JSON-RPC error: only POST is served.' }, ...errors(401, 403) },
  },
  openapi: {
    tags: ['operations'],
    summary: 'This document: the HTTP API as OpenAPI 3.1',
    response: { 200: { description: 'An OpenAPI 3.1 document.', type: 'object' } },
  },
} as const satisfies Record<string, FastifySchema & Schema>;
