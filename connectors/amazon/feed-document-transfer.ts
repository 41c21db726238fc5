import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { request } from 'undici';
import { RetryableError } from '../../core/sdk.ts';

const gunzipAsync = promisify(gunzip);
/** A feed document goes to and comes from storage Amazon presigns (not the SP-API host): a slow transfer is not a hang before this. */
const TRANSFER_TIMEOUT_MS = 60_000;

/**
 * Moves feed documents through the presigned URLs `createFeedDocument` and `getFeedDocument` hand out. Those URLs
 * carry their own signature and expire after 5 minutes, so they take no access token and are never put in an error
 * text (a URL in a log would be a credential for its lifetime). Every failure here is retryable: the next attempt
 * asks Amazon for a fresh URL.
 */
export async function uploadFeedDocument(url: string, body: string, contentType: string, signal: AbortSignal): Promise<void> {
  const res = await transfer('upload', signal, () =>
    request(url, { method: 'PUT', body, headers: { 'content-type': contentType }, signal, headersTimeout: TRANSFER_TIMEOUT_MS, bodyTimeout: TRANSFER_TIMEOUT_MS }),
  );
  // The storage's own error body is XML about the signature; its status says enough.
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new RetryableError(`amazon feed document upload answered ${res.statusCode}`);
}

/** The document's text, decompressed when Amazon says it is (`compressionAlgorithm: GZIP`). */
export async function downloadFeedDocument(url: string, compression: string | undefined, signal: AbortSignal): Promise<string> {
  const res = await transfer('download', signal, () => request(url, { method: 'GET', signal, headersTimeout: TRANSFER_TIMEOUT_MS, bodyTimeout: TRANSFER_TIMEOUT_MS }));
  const bytes = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode < 200 || res.statusCode >= 300) throw new RetryableError(`amazon processing report download answered ${res.statusCode}`);
  if (compression === undefined) return bytes.toString('utf8');
  if (compression !== 'GZIP') throw new RetryableError(`amazon processing report uses compression ${compression.slice(0, 20)}, which this connector cannot read`);
  try {
    return (await gunzipAsync(bytes)).toString('utf8');
  } catch (err) {
    throw new RetryableError('amazon processing report is marked GZIP but does not decompress', { cause: err });
  }
}

async function transfer<T>(what: string, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (signal.aborted) throw err;
    throw new RetryableError(`amazon feed document ${what} failed: ${(err as Error).message}`, { cause: err });
  }
}
