import { z } from 'zod';
import { MAX_QUERY_SKUS, MAX_SKU_LENGTH } from '../read/sku-query.ts';

// Input schemas name every field and bound every list, so a wrong call is answered with the field to fix.

const sku = z.string().min(1, 'must be a non-empty SKU').max(MAX_SKU_LENGTH, `must be at most ${MAX_SKU_LENGTH} characters`);
const channelId = z.string().min(1, 'must name a channel id');

export const stockInput = {
  skus: z.array(sku).min(1, 'must name at least one SKU').max(MAX_QUERY_SKUS, `must name at most ${MAX_QUERY_SKUS} SKUs`).describe(`The SKUs to look up (1..${MAX_QUERY_SKUS}).`),
};

export const whyInput = {
  channel: channelId.describe('The channel id, as listed by channel_health.'),
  sku: sku.describe('The SKU.'),
  limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').optional().describe('Most ledger changes listed before and after the confirmed version each (default 20).'),
};

export const channelHealthInput = {
  channel: channelId.optional().describe('Only this channel (default: every enabled channel).'),
};

export const alertsInput = {
  includeCleared: z.boolean().optional().describe('Also list alerts that cleared in the last 15 minutes (default false: firing only).'),
};

export const oversellsInput = {
  sku: sku.optional().describe('Only oversells of this SKU.'),
  channel: channelId.optional().describe('Only orders that came from this channel.'),
  sinceMinutes: z.number().int('must be a whole number').min(1, 'must be at least 1').max(43_200, 'must be at most 43200 (30 days)').optional().describe('Only oversells recorded in the last N minutes.'),
  limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').optional().describe('Most oversells listed, newest first (default 20).'),
};

// Output schemas: what `structuredContent` holds. The SDK checks every answer against them.

const isoTime = z.string().describe('ISO 8601 time');

const channelStatus = z.object({
  channel: z.string(),
  shown: z.number().nullable().describe('The quantity the channel last confirmed showing; null when it never confirmed one.'),
  target: z.number().describe("What the channel's rules (and forecast, when it has one) make of the ledger quantity now."),
  forecast: z
    .object({
      allowed: z.number(),
      hidden: z.number(),
      salesPerSecond: z.number(),
      horizonMs: z.number(),
      lastUnitsOn: z.string().optional().describe('The one channel offering the last units while forecasts hide them on every other.'),
    })
    .optional()
    .describe('Present when a forecast holds back units: target is allowed less hidden (sales expected before the next refresh).'),
  confirmedAt: isoTime.nullable(),
  pushedVersion: z.number(),
  versionsBehind: z.number(),
  msBehind: z.number().describe('How long the oldest change the channel has not confirmed is waiting, ms; 0 when in sync.'),
  state: z.enum(['in_sync', 'pending', 'throttled', 'failing', 'dead_lettered', 'not_listed', 'unverified']),
  confidence: z.number().describe("0..1: how far this channel's quantity can be trusted to follow the ledger now."),
  lastError: z.string().optional(),
  notListedReason: z.string().optional(),
  readBack: z.object({ shown: z.number(), readAt: isoTime }).optional().describe('What the channel itself showed when last read back, and when; absent when never read back.'),
});

const inventoryStatus = z.object({
  sku: z.string(),
  known: z.boolean().describe('False when the ledger has never held the SKU.'),
  available: z.number(),
  version: z.number(),
  updatedAt: isoTime.nullable(),
  channels: z.array(channelStatus),
  summary: z.object({
    channelsInSync: z.number(),
    channels: z.number(),
    shareInSync: z.number(),
    oldestUnconfirmedAt: isoTime.nullable(),
    maxMsBehind: z.number(),
    confidence: z.number().describe('0..1 over every channel: 1 when all confirmed the ledger quantity.'),
  }),
});

export const stockOutput = { items: z.array(inventoryStatus) };

const whyStep = z.object({
  eventId: z.string(),
  eventType: z.string(),
  sourceChannel: z.string(),
  before: z.number(),
  after: z.number(),
  version: z.number(),
  clamped: z.number(),
  shownAfter: z.number(),
  oversold: z.number(),
  occurredAt: isoTime,
  committedAt: isoTime,
});

export const whyOutput = {
  channelId: z.string(),
  sku: z.string(),
  connector: z.string(),
  rules: z.object({
    share: z.number(),
    reserve: z.number(),
    max: z.number().optional(),
    forecast: z.object({ enabled: z.boolean(), maxHiddenShare: z.number(), confidence: z.number(), minHorizonMs: z.number(), maxHorizonMs: z.number() }).optional(),
  }),
  ledger: z.object({ available: z.number(), version: z.number(), updatedAt: isoTime }).nullable(),
  confirmed: z.object({ quantity: z.number().nullable(), version: z.number(), at: isoTime.nullable() }),
  derivation: z.object({
    available: z.number().nullable(),
    formula: z.string(),
    expected: z.number().nullable(),
    matches: z.boolean().nullable(),
    forecast: z.object({ formula: z.string(), maxHiddenShare: z.number(), lowest: z.number().nullable(), hidden: z.number().nullable() }).nullable(),
  }),
  state: z.enum(['in-sync', 'pending', 'dead-lettered', 'never-pushed', 'not-listed', 'unverified']),
  deadLettered: z.object({ at: isoTime, lastError: z.string().nullable() }).nullable(),
  notListed: z.object({ at: isoTime, reason: z.string() }).nullable(),
  unverifiedUntil: isoTime.nullable(),
  readBack: z
    .object({ shown: z.number(), at: isoTime, matchesConfirmed: z.boolean().nullable() })
    .nullable()
    .describe('What the channel itself showed when last read back, next to what it confirmed; null when never read back.'),
  chain: z.array(whyStep),
  chainTruncated: z.boolean(),
  pending: z.array(whyStep),
  pendingTruncated: z.boolean(),
};

const channelHealth = z.object({
  channel: z.string(),
  connector: z.string(),
  stored: z.object({
    skusBehind: z.number(),
    behindSince: isoTime.nullable(),
    skusDeadLettered: z.number(),
    skusNotListed: z.number(),
    lastConfirmedAt: isoTime.nullable(),
  }),
  live: z
    .object({
      pending: z.number(),
      inFlight: z.number(),
      throttledUntil: isoTime.nullable(),
      successRatio: z.number(),
      throttles: z.number(),
      lagP50Ms: z.number().nullable(),
      lagP99Ms: z.number().nullable(),
      lagSamples: z.number(),
    })
    .nullable()
    .describe('What the hub pushing the channel holds in memory; null when no running hub was asked.'),
});

export const channelHealthOutput = {
  channels: z.array(channelHealth),
  liveUnavailable: z.string().optional().describe('Why the live figures are missing, when they are.'),
};

const alert = z.object({
  id: z.string(),
  kind: z.enum(['sync_lag', 'oversell', 'success_rate', 'dead_letters', 'consumer_backlog']),
  channel: z.string().optional(),
  severity: z.enum(['warning', 'critical']),
  firing: z.boolean(),
  since: isoTime,
  resolvedAt: isoTime.optional(),
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
});

export const alertsOutput = {
  evaluatedAt: isoTime.nullable().describe('When the hub last evaluated its alerts; null before its first evaluation.'),
  firing: z.number(),
  alerts: z.array(alert),
};

const oversell = z.object({
  eventId: z.string(),
  channel: z.string(),
  sku: z.string(),
  requested: z.number(),
  availableBefore: z.number(),
  shortfall: z.number(),
  at: isoTime,
});

export const oversellsOutput = {
  oversells: z.array(oversell),
  unitsOversold: z.number().describe('Sum of the listed shortfalls.'),
};
