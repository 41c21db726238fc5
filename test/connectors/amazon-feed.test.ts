import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import amazon from '../../connectors/amazon/index.ts';
import type { AmazonOptions } from '../../connectors/amazon/options.ts';
import { startAmazonSimulator, type AmazonSimulator, type AmazonSimulatorOptions } from '../../connectors/amazon/simulator.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { RetryableError, ThrottledError, type ConnectorContext, type ConnectorInstance, type Logger, type PushResult } from '../../core/sdk.ts';

const FIXTURES = new URL('../fixtures/vendor/amazon/', import.meta.url);
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: false });
formats.default(ajv);
const feedSchema = ajv.compile(fixture('listings-feed-schema-v2.json'));
const reportSchema = ajv.compile(fixture('listings-feed-processing-report-schema-v2.json'));
const feedsModel = fixture('feeds_2021-06-30.json');
/** A definition of the Feeds model, as a schema that resolves its sibling definitions. */
const modelDefinition = (name: string) => ajv.compile({ $ref: `#/definitions/${name}`, definitions: feedsModel.definitions });

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const context: ConnectorContext = { channelId: 'amazon-us', logger: silent, signal: new AbortController().signal, state: memoryConnectorState(), registerSecret: () => {} };
const signal = new AbortController().signal;
const update = (sku: string, quantity: number) => ({ sku, quantity, version: 1 });

let sim: AmazonSimulator | undefined;
let connector: ConnectorInstance | undefined;

afterEach(async () => {
  await connector?.close?.();
  await sim?.close();
  connector = undefined;
  sim = undefined;
});

async function setup(skus: string[], simOptions: AmazonSimulatorOptions = {}, tweak: (o: AmazonOptions) => AmazonOptions = (o) => o) {
  sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 }, ...simOptions });
  connector = await amazon.create(tweak(sim.connectorOptions(skus)), context);
  if (!connector.pushBulk) throw new Error('the amazon connector declares no bulk lane');
  return { sim, connector, pushBulk: connector.pushBulk.bind(connector) };
}

/** Calls the simulated SP-API the way any client would: an LWA token, then the call. */
async function spClient(sim: AmazonSimulator) {
  const options = sim.connectorOptions([]);
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: options.refreshToken, client_id: options.clientId, client_secret: options.clientSecret });
  const issued = await request(`${sim.url}/auth/o2/token`, { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const { access_token: token } = (await issued.body.json()) as { access_token: string };
  return async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await request(`${sim.url}${path}`, {
      method,
      headers: { 'x-amz-access-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
  };
}

/** Submits `document` as a JSON_LISTINGS_FEED straight to the simulator and returns the finished feed and its report as served. */
async function submitRaw(sim: AmazonSimulator, document: string) {
  const call = await spClient(sim);
  const created = await call('POST', '/feeds/2021-06-30/documents', { contentType: 'application/json; charset=UTF-8' });
  const upload = await request(created.body.url as string, { method: 'PUT', body: document, headers: { 'content-type': 'application/json; charset=UTF-8' } });
  await upload.body.dump();
  expect(upload.statusCode).toBe(200);
  const submitted = await call('POST', '/feeds/2021-06-30/feeds', { feedType: 'JSON_LISTINGS_FEED', marketplaceIds: ['ATVPDKIKX0DER'], inputFeedDocumentId: created.body.feedDocumentId });
  expect(submitted.status).toBe(202);
  let feed = (await call('GET', `/feeds/2021-06-30/feeds/${String(submitted.body.feedId)}`)).body;
  while (!['DONE', 'FATAL', 'CANCELLED'].includes(String(feed.processingStatus))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    feed = (await call('GET', `/feeds/2021-06-30/feeds/${String(submitted.body.feedId)}`)).body;
  }
  const result = await call('GET', `/feeds/2021-06-30/documents/${String(feed.resultFeedDocumentId)}`);
  const download = await request(result.body.url as string);
  const bytes = Buffer.from(await download.body.arrayBuffer());
  const report: unknown = JSON.parse((result.body.compressionAlgorithm === 'GZIP' ? gunzipSync(bytes) : bytes).toString('utf8'));
  return { feed, document: result.body, report };
}

describe('amazon bulk lane: what the connector sends, against Amazon\'s feed schema and Feeds model', () => {
  it('uploads a JSON_LISTINGS_FEED that validates against listings-feed-schema-v2.json, one PATCH per SKU', async () => {
    const { sim, pushBulk } = await setup(['A/1', 'B-2', 'C 3']);
    await pushBulk([update('A/1', 4), update('B-2', 0), update('C 3', 12)], signal);
    const [uploaded] = sim.feedUploads();
    const feed = JSON.parse(uploaded as string) as { header: Record<string, unknown>; messages: Array<Record<string, unknown>> };
    expect(feedSchema(feed), JSON.stringify(feedSchema.errors)).toBe(true);
    expect(feed.header).toMatchObject({ sellerId: sim.connectorOptions([]).sellerId, version: '2.0', issueLocale: 'en_US' });
    expect(feed.messages.map((m) => [m.sku, m.operationType])).toEqual([
      ['A/1', 'PATCH'],
      ['B-2', 'PATCH'],
      ['C 3', 'PATCH'],
    ]);
    expect(new Set(feed.messages.map((m) => m.messageId)).size).toBe(3);
  });

  it('patches exactly what the per-SKU call patches: the same product type, path and fulfillment_availability value', async () => {
    const { sim, connector, pushBulk } = await setup(['S1']);
    await connector.push([update('S1', 9)], signal);
    await pushBulk([update('S1', 9)], signal);
    const patch = sim.apiExchanges().find((call) => call.method === 'PATCH')?.body as { productType: string; patches: unknown[] };
    const [message] = (JSON.parse(sim.feedUploads()[0] as string) as { messages: Array<{ productType: string; patches: unknown[] }> }).messages;
    expect(message?.productType).toBe(patch.productType);
    expect(message?.patches).toEqual(patch.patches);
  });

  it('creates the document and the feed with bodies the Feeds 2021-06-30 model defines, and reads answers that validate against it', async () => {
    const { sim, pushBulk } = await setup(['S1']);
    await pushBulk([update('S1', 2)], signal);
    const calls = sim.apiExchanges().filter((call) => call.path.startsWith('/feeds/'));
    const documentCall = calls.find((call) => call.method === 'POST' && call.path === '/feeds/2021-06-30/documents');
    expect(modelDefinition('CreateFeedDocumentSpecification')(documentCall?.body)).toBe(true);
    expect(documentCall?.body).toEqual({ contentType: 'application/json; charset=UTF-8' });
    expect(modelDefinition('CreateFeedDocumentResponse')(documentCall?.response)).toBe(true);
    const feedCall = calls.find((call) => call.method === 'POST' && call.path === '/feeds/2021-06-30/feeds');
    expect(modelDefinition('CreateFeedSpecification')(feedCall?.body)).toBe(true);
    expect(feedCall?.body).toMatchObject({ feedType: 'JSON_LISTINGS_FEED', marketplaceIds: ['ATVPDKIKX0DER'] });
    expect(modelDefinition('CreateFeedResponse')(feedCall?.response)).toBe(true);
    const polls = calls.filter((call) => call.method === 'GET' && call.path.startsWith('/feeds/2021-06-30/feeds/'));
    expect(polls.length).toBeGreaterThan(0);
    for (const poll of polls) expect(modelDefinition('Feed')(poll.response)).toBe(true);
    const reportCall = calls.find((call) => call.method === 'GET' && call.path.startsWith('/feeds/2021-06-30/documents/'));
    expect(modelDefinition('FeedDocument')(reportCall?.response)).toBe(true);
  });
});

describe('amazon bulk lane: the simulator processes feeds as Amazon reports them', () => {
  it('writes a processing report that validates against listings-feed-processing-report-schema-v2.json, gzip-compressed', async () => {
    sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 }, skus: { S1: 1, S2: 1, S3: 1 } });
    const feed = {
      header: { sellerId: sim.connectorOptions([]).sellerId, version: '2.0' },
      messages: [
        { messageId: 1, sku: 'S1', operationType: 'PATCH', productType: 'PRODUCT', patches: [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 5 }] }] },
        // No productType: the message schema requires one for PATCH.
        { messageId: 2, sku: 'S2', operationType: 'PATCH', patches: [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 6 }] }] },
        // No channel code: valid by the schema, refused by the listing.
        { messageId: 3, sku: 'S3', operationType: 'PATCH', productType: 'PRODUCT', patches: [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ quantity: 7 }] }] },
      ],
    };
    const { feed: finished, document, report } = await submitRaw(sim, JSON.stringify(feed));
    expect(finished.processingStatus).toBe('DONE');
    expect(document.compressionAlgorithm).toBe('GZIP');
    expect(reportSchema(report), JSON.stringify(reportSchema.errors)).toBe(true);
    const { issues, summary } = report as { issues: Array<{ messageId?: number; code?: string; severity: string }>; summary: Record<string, number> };
    expect(issues.map((issue) => [issue.messageId, issue.code, issue.severity])).toEqual([
      [2, '4002008', 'ERROR'],
      [3, 'BAD_REQUEST', 'ERROR'],
    ]);
    expect(summary).toMatchObject({ messagesProcessed: 3, messagesAccepted: 1, messagesInvalid: 2 });
    expect([sim.shown('S1'), sim.shown('S2'), sim.shown('S3')]).toEqual([5, 1, 1]);
  });

  it('ends a document that is not a listings feed FATAL, with a report issue that names no message', async () => {
    sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 } });
    const { feed, report } = await submitRaw(sim, '<AmazonEnvelope/>');
    expect(feed.processingStatus).toBe('FATAL');
    expect(reportSchema(report), JSON.stringify(reportSchema.errors)).toBe(true);
    const { issues, summary } = report as { issues: Array<Record<string, unknown>>; summary: Record<string, number> };
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: '4002001', severity: 'ERROR' });
    expect(issues[0]).not.toHaveProperty('messageId');
    expect(summary.messagesProcessed).toBe(0);
  });

  it('accepts Amazon\'s own example feed and leaves its FBA-only and DELETE messages without effect on merchant quantities', async () => {
    sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 }, skus: { 'My-SKU-B': 1, 'My-SKU-C': 1, 'My-SKU-D': 1, 'My-SKU-E': 1 } });
    const example = fixture('listings-feed-schema-v2.example.json');
    const { feed, report } = await submitRaw(sim, JSON.stringify(example));
    expect(feed.processingStatus).toBe('DONE');
    expect(reportSchema(report)).toBe(true);
    expect((report as { issues: unknown[] }).issues).toEqual([]);
    expect([sim.shown('My-SKU-B'), sim.shown('My-SKU-C'), sim.shown('My-SKU-D'), sim.shown('My-SKU-E')]).toEqual([10, 1, 10, 10]);
  });

  it('throttles each Feeds operation by its usage plan, with the SP-API 429 answer', async () => {
    sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 } });
    const call = await spClient(sim);
    const answers = await Promise.all(Array.from({ length: 25 }, () => call('GET', '/feeds/2021-06-30/feeds/123')));
    const throttled = answers.filter((answer) => answer.status === 429);
    // getFeed's burst is 15: of 25 at once, some are refused.
    expect(throttled.length).toBeGreaterThanOrEqual(25 - 15 - 1);
    for (const answer of throttled) {
      expect(answer.body).toEqual({ errors: [{ code: 'QuotaExceeded', message: 'You exceeded your quota for the requested resource.', details: '' }] });
      expect(answer.headers['x-amzn-requestid']).toBeTypeOf('string');
    }
  });

  it('takes at most five JSON_LISTINGS_FEED submissions in five minutes, although createFeed alone allows a burst of 15', async () => {
    sim = await startAmazonSimulator({ latency: { p50: 0, p99: 0 } });
    const call = await spClient(sim);
    const created = await call('POST', '/feeds/2021-06-30/documents', { contentType: 'application/json; charset=UTF-8' });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await call('POST', '/feeds/2021-06-30/feeds', { feedType: 'JSON_LISTINGS_FEED', marketplaceIds: ['ATVPDKIKX0DER'], inputFeedDocumentId: created.body.feedDocumentId });
      statuses.push(answer.status);
    }
    expect(statuses.filter((status) => status === 202)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(3);
  });
});

describe('amazon bulk lane: pushBulk', () => {
  it('converges every quantity and returns exactly one result per update', async () => {
    const skus = Array.from({ length: 60 }, (_, i) => `BULK-${i}`);
    const { sim, pushBulk } = await setup(skus);
    const results = await pushBulk(skus.map((sku, i) => update(sku, i + 1)), signal);
    expect(results).toHaveLength(skus.length);
    expect(new Set(results.map((result) => result.sku))).toEqual(new Set(skus));
    expect(results.every((result) => result.status === 'ok')).toBe(true);
    for (const [i, sku] of skus.entries()) expect(sim.shown(sku)).toBe(i + 1);
    expect(sim.stats().feedsCreated).toBe(1);
  });

  it('answers not_listed for a hub SKU with no Amazon listing mapped, and still sends the others', async () => {
    const { sim, pushBulk } = await setup(['S1']);
    const results = await pushBulk([update('S1', 3), update('GONE', 4)], signal);
    expect(results).toContainEqual({ sku: 'S1', status: 'ok', quantity: 3 });
    expect(results).toContainEqual(expect.objectContaining({ sku: 'GONE', status: 'not_listed' }));
    expect(sim.shown('S1')).toBe(3);
  });

  it('rejects only the item whose message Amazon reports an ERROR for, with its code', async () => {
    const { sim, pushBulk } = await setup(['S1', 'S2'], {}, (o) => ({ ...o, listings: { ...o.listings, S2: { sellerSku: 'S2', productType: '' } } }));
    const results = await pushBulk([update('S1', 3), update('S2', 4)], signal);
    expect(results).toContainEqual({ sku: 'S1', status: 'ok', quantity: 3 });
    const refused = results.find((result) => result.sku === 'S2') as Extract<PushResult, { status: 'rejected' }>;
    expect(refused.status).toBe('rejected');
    expect(refused.reason).toContain('4002008');
    expect(sim.shown('S2')).toBeUndefined();
  });

  it('counts a SKU Amazon has no listing for as accepted, as Amazon\'s report does: the feed lane cannot see it (item-unknown)', async () => {
    const { sim, pushBulk } = await setup(['S1', 'S2'], { skus: { S1: 1, S2: 1 } });
    sim.setFault({ kind: 'item-unknown', skus: ['S2'] });
    const results = await pushBulk([update('S1', 3), update('S2', 4)], signal);
    expect(results.map((result) => result.status)).toEqual(['ok', 'ok']);
    expect([sim.shown('S1'), sim.shown('S2')]).toEqual([3, 1]);
  });

  it('reads a processing report that comes uncompressed as well', async () => {
    const { sim, pushBulk } = await setup(['S1'], { gzipFeedReports: false });
    expect(await pushBulk([update('S1', 8)], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 8 }]);
    expect(sim.shown('S1')).toBe(8);
  });

  it('throws ThrottledError, with a wait, when Amazon throttles createFeed', async () => {
    const { pushBulk } = await setup(['S1'], { feedSubmissions: { limit: 1, windowMs: 60_000 } });
    await pushBulk([update('S1', 1)], signal);
    const err = await pushBulk([update('S1', 2)], signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBeGreaterThan(0);
  });

  it('waits out a throttled getFeed once the feed is submitted, instead of failing a job Amazon is processing', async () => {
    const { sim, pushBulk } = await setup(['S1'], { feedProcessingMs: 1000, feedRates: { getFeed: { perSecond: 0.5, burst: 1 } } });
    expect(await pushBulk([update('S1', 6)], signal)).toEqual([{ sku: 'S1', status: 'ok', quantity: 6 }]);
    expect(sim.stats().throttled).toBeGreaterThan(0);
    expect(sim.stats().feedsCreated).toBe(1);
    expect(sim.shown('S1')).toBe(6);
  });

  it('throws RetryableError when the Feeds API fails with a 5xx', async () => {
    const { sim, pushBulk } = await setup(['S1']);
    sim.setFault({ kind: 'server-error', status: 503 });
    await expect(pushBulk([update('S1', 1)], signal)).rejects.toBeInstanceOf(RetryableError);
  });

  it('stops polling getFeed and rejects once its signal aborts', async () => {
    const { sim, pushBulk } = await setup(['S1'], { feedProcessingMs: 600_000 });
    const controller = new AbortController();
    const pending = pushBulk([update('S1', 5)], controller.signal);
    pending.catch(() => {});
    while ((sim.stats().getFeedCalls ?? 0) < 1) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('hub stopping'));
    await expect(pending).rejects.toThrow('hub stopping');
    const polled = sim.stats().getFeedCalls;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(sim.stats().getFeedCalls).toBe(polled);
  });
});

describe('amazon bulk lane: declared capabilities', () => {
  it('declares the documented feed limits: 25,000 messages, the tighter of createFeed and the feed type\'s own rate, one feed open', () => {
    expect(amazon.capabilities.bulk).toMatchObject({ maxBatchSize: 25_000, rateLimit: { perSecond: 0.0083, burst: 5 }, maxConcurrency: 1 });
    const messages = ((fixture('listings-feed-schema-v2.json').properties as Record<string, { maxItems?: number }>).messages as { maxItems: number }).maxItems;
    expect(amazon.capabilities.bulk?.maxBatchSize).toBe(messages);
  });
});
