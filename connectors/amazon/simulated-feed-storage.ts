import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A presigned URL lives 5 minutes (feeds_2021-06-30.json, `url` of CreateFeedDocumentResponse and FeedDocument). */
const URL_LIFETIME_MS = 5 * 60_000;

interface StoredDocument {
  /** The content type an upload must carry (it is part of what Amazon presigned). */
  contentType?: string;
  bytes?: Buffer;
}

interface Grant {
  documentId: string;
  method: 'PUT' | 'GET';
  expiresAt: number;
}

/**
 * The storage behind the Feeds API's presigned URLs, on a host of its own as Amazon's is (not the SP-API endpoint:
 * no access token, no usage plan, its own error shape). A URL is good for one method and 5 minutes; an upload must
 * carry the content type the document was created with. Any bytes are stored as they come: judging them is the
 * feed processing's job, which reports an unreadable document in its processing report.
 */
export class SimulatedFeedStorage {
  readonly #documents = new Map<string, StoredDocument>();
  readonly #grants = new Map<string, Grant>();
  /** Uploaded documents as text, oldest first (the last 100), for checking them against Amazon's schema. */
  readonly uploads: string[] = [];
  #url = '';
  readonly #server = createServer((req, res) => {
    this.#handle(req, res).catch(() => res.destroy());
  });

  /** Starts listening; resolves with itself. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** A new, empty document waiting for its upload, and the URL that takes it. */
  createUpload(documentId: string, contentType: string): string {
    this.#documents.set(documentId, { contentType });
    return this.#grant(documentId, 'PUT');
  }

  /** Stores a document the simulated Amazon wrote itself (a processing report). */
  put(documentId: string, bytes: Buffer): void {
    this.#documents.set(documentId, { bytes });
  }

  /** A URL that serves the document, or undefined when there is no such document. */
  downloadUrl(documentId: string): string | undefined {
    return this.#documents.has(documentId) ? this.#grant(documentId, 'GET') : undefined;
  }

  has(documentId: string): boolean {
    return this.#documents.has(documentId);
  }

  /** The uploaded bytes, or undefined while nothing was uploaded. */
  content(documentId: string): Buffer | undefined {
    return this.#documents.get(documentId)?.bytes;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    });
  }

  #grant(documentId: string, method: Grant['method']): string {
    const signature = randomBytes(32).toString('hex');
    this.#grants.set(signature, { documentId, method, expiresAt: Date.now() + URL_LIFETIME_MS });
    return `${this.#url}/sim-feeds-bucket/${encodeURIComponent(documentId)}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=300&X-Amz-Signature=${signature}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const grant = this.#grants.get(url.searchParams.get('X-Amz-Signature') ?? '');
    const documentId = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    const refuse = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    if (!grant || grant.documentId !== documentId || grant.method !== req.method) return refuse(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    if (grant.expiresAt <= Date.now()) return refuse(403, 'AccessDenied', 'Request has expired');
    const document = this.#documents.get(documentId);
    if (!document) return refuse(404, 'NoSuchKey', 'The specified key does not exist.');
    if (req.method === 'PUT') {
      if (req.headers['content-type'] !== document.contentType) return refuse(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
      document.bytes = Buffer.concat(chunks);
      if (this.uploads.length >= 100) this.uploads.shift();
      this.uploads.push(document.bytes.toString('utf8'));
      res.writeHead(200);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(document.bytes ?? Buffer.alloc(0));
  }
}
