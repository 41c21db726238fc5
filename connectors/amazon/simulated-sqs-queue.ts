import { createHash, randomUUID } from 'node:crypto';
import { sleep } from '../_kit/latency.ts';
import type { SimRequest, SimResponse } from '../_kit/sim-server.ts';
import { safeEqual } from '../_kit/signatures.ts';
import { SQS_CONTENT_TYPE, SQS_TARGET_DELETE, SQS_TARGET_RECEIVE, type SqsMessage } from './api.ts';
import { parseAmzDate, parseSigV4Authorization, signAwsRequest, type AwsCredentials } from './aws-sigv4.ts';

interface StoredMessage {
  id: string;
  body: string;
  md5: string;
  /** The receipt handle of the latest receive; only it deletes the message. */
  handle?: string;
  invisibleUntil: number;
  receiveCount: number;
}

const sqsError = (type: string, message: string, status = 400): SimResponse => ({
  status,
  headers: { 'content-type': SQS_CONTENT_TYPE },
  body: { __type: `com.amazonaws.sqs#${type}`, message },
});

/**
 * One standard SQS queue, as much of it as an `ORDER_CHANGE` consumer meets, spoken through the SQS JSON protocol:
 * - `ReceiveMessage`: up to `MaxNumberOfMessages` (1–10) visible messages, oldest first; each gets a NEW receipt handle
 *   and turns invisible for `VisibilityTimeout` seconds (the queue default when absent), after which it is visible
 *   again (at-least-once delivery). `WaitTimeSeconds` > 0 waits that long for a message before answering empty.
 * - `DeleteMessage`: only the most recent receipt handle of a message deletes it; an older handle of the same
 *   message succeeds without deleting (as SQS documents), an unknown one is `ReceiptHandleIsInvalid`.
 * - A `QueueUrl` other than this queue's is `QueueDoesNotExist`.
 * - Every request must carry a valid SigV4 signature (service `sqs`) by the queue's credentials, dated within 15 minutes:
 *   403 `MissingAuthenticationToken`, `InvalidClientTokenId` or `SignatureDoesNotMatch` otherwise.
 * Not modelled: IAM policies, message attributes, batch actions, FIFO ordering, redrive to a dead-letter queue.
 */
export class SimulatedSqsQueue {
  private readonly messages: StoredMessage[] = [];
  private readonly handles = new Map<string, StoredMessage>();
  received = 0;
  deleted = 0;

  constructor(
    readonly queueUrl: string,
    private readonly defaultVisibilitySeconds: number,
    private readonly credentials: AwsCredentials,
    private readonly region: string,
  ) {}

  /** Recomputes the request's signature with AWS's signer from what arrived, over the headers the client said it signed. */
  private async checkSignature(req: SimRequest): Promise<SimResponse | undefined> {
    const auth = parseSigV4Authorization(req.headers.authorization);
    if (!auth) return sqsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    if (auth.accessKeyId !== this.credentials.accessKeyId) return sqsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    const xAmzDate = String(req.headers['x-amz-date'] ?? '');
    const signingDate = parseAmzDate(xAmzDate);
    if (!signingDate || Math.abs(Date.now() - signingDate.getTime()) > 15 * 60_000 || auth.day !== xAmzDate.slice(0, 8)) {
      return sqsError('SignatureDoesNotMatch', 'Signature expired or x-amz-date missing.', 403);
    }
    if (auth.service !== 'sqs' || auth.region !== this.region || !auth.signedHeaders.includes('host')) {
      return sqsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', 403);
    }
    const headers: Record<string, string> = {};
    for (const name of auth.signedHeaders) {
      if (name === 'x-amz-date' || name === 'x-amz-security-token' || name === 'host') continue;
      const value = req.headers[name];
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const token = req.headers['x-amz-security-token'];
    const query = req.query.toString();
    const expected = await signAwsRequest(
      { method: req.method, host: String(req.headers.host ?? ''), path: req.path, query, headers, body: req.rawBody.toString('utf8'), service: 'sqs', region: this.region },
      { ...this.credentials, sessionToken: typeof token === 'string' ? token : undefined },
      { signingDate },
    );
    if (!safeEqual(expected.authorization ?? '', String(req.headers.authorization))) {
      return sqsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', 403);
    }
    return undefined;
  }

  send(body: string): string {
    const id = randomUUID();
    this.messages.push({ id, body, md5: createHash('md5').update(body).digest('hex'), invisibleUntil: 0, receiveCount: 0 });
    return id;
  }

  depth(): { visible: number; inFlight: number } {
    const now = Date.now();
    const visible = this.messages.filter((m) => m.invisibleUntil <= now).length;
    return { visible, inFlight: this.messages.length - visible };
  }

  receive(max: number, visibilitySeconds: number): SqsMessage[] {
    const now = Date.now();
    const out: SqsMessage[] = [];
    for (const message of this.messages) {
      if (out.length >= max) break;
      if (message.invisibleUntil > now) continue;
      const handle = Buffer.from(`${message.id}:${randomUUID()}`).toString('base64');
      message.handle = handle;
      message.invisibleUntil = now + visibilitySeconds * 1000;
      message.receiveCount += 1;
      this.handles.set(handle, message);
      out.push({ MessageId: message.id, ReceiptHandle: handle, MD5OfBody: message.md5, Body: message.body });
    }
    this.received += out.length;
    return out;
  }

  delete(handle: string): 'deleted' | 'stale' | 'invalid' {
    const message = this.handles.get(handle);
    if (!message) return 'invalid';
    this.handles.delete(handle);
    if (message.handle !== handle) return 'stale';
    const index = this.messages.indexOf(message);
    if (index < 0) return 'stale';
    this.messages.splice(index, 1);
    this.deleted += 1;
    return 'deleted';
  }

  /** Answers one SQS JSON-protocol request. */
  async handle(req: SimRequest): Promise<SimResponse> {
    const unsigned = await this.checkSignature(req);
    if (unsigned) return unsigned;
    const target = String(req.headers['x-amz-target'] ?? '');
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(req.rawBody.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return sqsError('SerializationException', 'Request body is not valid JSON.');
    }
    if (input.QueueUrl !== this.queueUrl) return sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    const ok = (body: unknown): SimResponse => ({ status: 200, headers: { 'content-type': SQS_CONTENT_TYPE }, body });

    if (target === SQS_TARGET_RECEIVE) {
      const max = input.MaxNumberOfMessages === undefined ? 1 : Number(input.MaxNumberOfMessages);
      if (!Number.isInteger(max) || max < 1 || max > 10) return sqsError('InvalidParameterValue', 'MaxNumberOfMessages must be between 1 and 10.');
      const visibility = input.VisibilityTimeout === undefined ? this.defaultVisibilitySeconds : Number(input.VisibilityTimeout);
      const waitSeconds = Math.min(20, Math.max(0, Number(input.WaitTimeSeconds ?? 0)));
      const deadline = Date.now() + waitSeconds * 1000;
      let messages = this.receive(max, visibility);
      while (messages.length === 0 && Date.now() < deadline) {
        await sleep(25);
        messages = this.receive(max, visibility);
      }
      return ok(messages.length > 0 ? { Messages: messages } : {});
    }
    if (target === SQS_TARGET_DELETE) {
      const handle = typeof input.ReceiptHandle === 'string' ? input.ReceiptHandle : '';
      if (this.delete(handle) === 'invalid') return sqsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
      return ok({});
    }
    return sqsError('UnsupportedOperation', `${target || 'missing x-amz-target'} is not supported.`);
  }
}
