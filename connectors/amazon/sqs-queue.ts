import { RejectedError } from '../../core/sdk.ts';
import { createHttpClient } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { SQS_CONTENT_TYPE, SQS_TARGET_DELETE, SQS_TARGET_RECEIVE, type SqsMessage } from './api.ts';
import { signAwsRequest, type AwsCredentials } from './aws-sigv4.ts';

export interface SqsQueue {
  /**
   * Called by `pollOrders` to take up to `max` messages. Each comes back with a fresh receipt handle and
   * stays invisible to other receivers for `visibilityTimeoutSeconds`, after which SQS offers it again unless deleted.
   */
  receive(max: number, visibilityTimeoutSeconds: number, waitTimeSeconds: number, signal: AbortSignal): Promise<SqsMessage[]>;
  /** Called once a message's event has been handed to the hub; afterwards SQS never offers that message again. */
  delete(receiptHandle: string, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

interface SqsErrorBody {
  __type?: string;
  message?: string;
}

/** The region of a standard SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
export const regionOfQueueUrl = (queueUrl: string): string | undefined => /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(queueUrl).host)?.[1];

/**
 * The SQS JSON protocol: every action is `POST /` on the queue's endpoint with the action in `x-amz-target`,
 * signed with AWS Signature Version 4 (service `sqs`) when credentials are given, as real SQS requires.
 */
export function createSqsQueue(queueUrl: string, aws?: { credentials: AwsCredentials; region: string }): SqsQueue {
  const endpoint = new URL('/', queueUrl);
  const http = createHttpClient(endpoint.origin, { connections: 2, timeoutMs: 30_000 });

  const call = async (target: string, body: Record<string, unknown>, signal: AbortSignal): Promise<unknown> => {
    const payload = JSON.stringify({ QueueUrl: queueUrl, ...body });
    let headers: Record<string, string> = { 'content-type': SQS_CONTENT_TYPE, 'x-amz-target': target };
    if (aws) {
      const signed = await signAwsRequest({ method: 'POST', host: endpoint.host, path: endpoint.pathname, headers, body: payload, service: 'sqs', region: aws.region }, aws.credentials);
      headers = { ...headers, ...signed };
    }
    const res = await http.request({ method: 'POST', path: '/', headers, body: payload, signal });
    if (res.status === 200) return res.body;
    const error = (res.body ?? {}) as SqsErrorBody;
    const type = error.__type?.split('#').pop() ?? `HTTP ${res.status}`;
    // SQS's own message is short; anything longer is not SQS talking (a proxy echoing the request) and is cut.
    const text = typeof error.message === 'string' ? error.message.slice(0, 200) : '';
    throwForStatus(res, {
      channel: 'SQS',
      what: target.split('.').pop() ?? target,
      detail: () => `${String(type).slice(0, 80)}: ${text}`.trim(),
      // SQS says "throttled" with a 400 and the error type.
      means: (r) => (r.status < 500 && (type === 'RequestThrottled' || type === 'ThrottlingException') ? 'throttled' : undefined),
      otherStatuses: 'refused',
    });
    throw new RejectedError(`SQS ${target.split('.').pop()} answered ${res.status} ${String(type).slice(0, 80)}: ${text}`.trim());
  };

  return {
    async receive(max, visibilityTimeoutSeconds, waitTimeSeconds, signal) {
      const body = (await call(
        SQS_TARGET_RECEIVE,
        { MaxNumberOfMessages: max, VisibilityTimeout: visibilityTimeoutSeconds, WaitTimeSeconds: waitTimeSeconds },
        signal,
      )) as { Messages?: SqsMessage[] } | undefined;
      return body?.Messages ?? [];
    },
    async delete(receiptHandle, signal) {
      await call(SQS_TARGET_DELETE, { ReceiptHandle: receiptHandle }, signal);
    },
    close: () => http.close(),
  };
}
