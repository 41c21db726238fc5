import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createFeedPush, type FeedOperation } from '../../connectors/amazon/feed-push.ts';
import type { HttpRequest, HttpResponse } from '../../connectors/_kit/http-client.ts';
import { RejectedError, type PushResult } from '../../core/sdk.ts';

/**
 * How the connector reads a finished feed, for the endings the simulator does not produce on its own (CANCELLED, a
 * FATAL feed without a report, a report of a document refused under DONE). The Feeds API answers are stubbed; the
 * documents still travel over HTTP, gzip-compressed as Amazon serves them.
 */
let storage: Server | undefined;
async function closeStorage(): Promise<void> {
  const server = storage;
  storage = undefined;
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
afterEach(closeStorage);

async function documentStore(report: unknown): Promise<string> {
  storage = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'PUT') res.writeHead(200).end();
      else res.writeHead(200).end(gzipSync(Buffer.from(JSON.stringify(report))));
    });
  });
  await new Promise<void>((resolve) => storage?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
}

async function pushThroughFeed(ending: { processingStatus: string; resultFeedDocumentId?: string }, report: unknown = undefined): Promise<PushResult[]> {
  const url = await documentStore(report);
  const answer = (status: number, body: unknown): HttpResponse => ({ status, headers: {}, body, elapsedMs: 1 });
  const push = createFeedPush({
    sellerId: 'A1SELLER',
    marketplaceId: 'ATVPDKIKX0DER',
    listings: { S1: { sellerSku: 'S1', productType: 'PRODUCT' }, S2: { sellerSku: 'S2', productType: 'PRODUCT' } },
    describe: () => 'error',
    pollDelay: async () => {},
    async request(operation: FeedOperation, _req: Omit<HttpRequest, 'headers'>) {
      if (operation === 'createFeedDocument') return answer(201, { feedDocumentId: 'doc-in', url: `${url}/in` });
      if (operation === 'createFeed') return answer(202, { feedId: '50001' });
      if (operation === 'getFeed') return answer(200, { feedId: '50001', feedType: 'JSON_LISTINGS_FEED', createdTime: new Date().toISOString(), ...ending });
      return answer(200, { feedDocumentId: 'doc-out', url: `${url}/out`, compressionAlgorithm: 'GZIP' });
    },
  });
  return push([{ sku: 'S1', quantity: 1, version: 1 }, { sku: 'S2', quantity: 2, version: 1 }], new AbortController().signal);
}

const header = { sellerId: 'A1SELLER', version: '2.0', feedId: '50001' };
const counts = (processed: number, invalid: number, errors: number) => ({ errors, warnings: 0, messagesProcessed: processed, messagesAccepted: processed - invalid, messagesInvalid: invalid });

describe('amazon bulk lane: reading how a feed ended', () => {
  it('rejects every item when the report refuses the document as a whole (an issue without messageId)', async () => {
    const report = { header: { ...header, sellerId: '' }, issues: [{ code: '4002001', severity: 'ERROR', message: "Item 'Feed' cannot be parsed." }], summary: counts(0, 0, 1) };
    for (const processingStatus of ['FATAL', 'DONE']) {
      const results = await pushThroughFeed({ processingStatus, resultFeedDocumentId: 'doc-out' }, report);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect((results[0] as { reason: string }).reason).toContain('4002001');
      await closeStorage();
    }
  });

  it('retries every item of a FATAL feed that left no report, and of a CANCELLED one', async () => {
    expect((await pushThroughFeed({ processingStatus: 'FATAL' })).map((r) => r.status)).toEqual(['retry', 'retry']);
    await closeStorage();
    expect((await pushThroughFeed({ processingStatus: 'CANCELLED' })).map((r) => r.status)).toEqual(['retry', 'retry']);
  });

  it('of a FATAL feed with per-message issues, rejects the refused messages and retries the others', async () => {
    const report = { header, issues: [{ messageId: 1, sku: 'S1', code: '4002008', severity: 'ERROR', message: 'invalid' }], summary: counts(2, 1, 1) };
    const results = await pushThroughFeed({ processingStatus: 'FATAL', resultFeedDocumentId: 'doc-out' }, report);
    expect(results.map((r) => [r.sku, r.status])).toEqual([
      ['S1', 'rejected'],
      ['S2', 'retry'],
    ]);
  });

  it('counts a message with only WARNING or INFO issues as applied', async () => {
    const report = { header, issues: [{ messageId: 2, sku: 'S2', code: '18448', severity: 'WARNING', message: 'incomplete' }], summary: { ...counts(2, 0, 0), warnings: 1 } };
    const results = await pushThroughFeed({ processingStatus: 'DONE', resultFeedDocumentId: 'doc-out' }, report);
    expect(results).toEqual([
      { sku: 'S1', status: 'ok', quantity: 1 },
      { sku: 'S2', status: 'ok', quantity: 2 },
    ]);
  });

  it('refuses more updates than one listings feed may hold, before calling Amazon', async () => {
    const push = createFeedPush({
      sellerId: 'A1SELLER',
      marketplaceId: 'ATVPDKIKX0DER',
      listings: {},
      describe: () => 'error',
      request: () => Promise.reject(new Error('no call expected')),
    });
    const updates = Array.from({ length: 25_001 }, (_, i) => ({ sku: `S${i}`, quantity: 1, version: 1 }));
    await expect(push(updates, new AbortController().signal)).rejects.toBeInstanceOf(RejectedError);
  });
});
