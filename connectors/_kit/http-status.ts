import { RejectedError, RetryableError, ThrottledError, type StockrelayError } from '../../core/sdk.ts';
import { retryAfterHeaderMs, type HttpResponse } from './http-client.ts';

/**
 * What a channel's answer means for the call as a whole, whatever the channel: the class of the error decides
 * what the host does (a throttle pauses the channel, a retryable failure is retried, a refusal is dead-lettered).
 * - `throttled`: slow down (HTTP 429).
 * - `credentials`: the channel refused our credentials (HTTP 401, 403): retrying cannot help.
 * - `unavailable`: the channel failed for now (HTTP 5xx).
 * - `refused`: the channel refused the request itself for good.
 */
export type AnswerMeaning = 'throttled' | 'credentials' | 'unavailable' | 'refused';

export interface StatusRules {
  /** The channel as its sellers name it; the first word of every message (`eBay`, `walmart`). */
  channel: string;
  /** The call, for messages: `getOrder`, `the token refresh`. */
  what: string;
  /**
   * A short text from the answer for the message (the channel's error code and message, a hint for the seller),
   * or nothing. Never the raw body: an error body can echo the request and its credentials back.
   */
  detail?: (res: HttpResponse, meaning: AnswerMeaning) => string | undefined;
  /**
   * Called first, for a channel whose answers mean something other than (or more than) their HTTP status:
   * an error code in a 200 envelope that means "throttled", a 404 that means "refused". Undefined falls back
   * to the status.
   */
  means?: (res: HttpResponse) => AnswerMeaning | undefined;
  /**
   * How long a throttled answer asks us to wait, when the channel says it some other way than `Retry-After`
   * (a reset header, a cost bucket, our own backoff for a channel that says nothing). Undefined: `Retry-After`.
   */
  throttleWaitMs?: (res: HttpResponse) => number | undefined;
  /** The wait of a throttled answer that says nothing about it. Default 1 s. */
  defaultThrottleWaitMs?: number;
  /**
   * What any other status outside 2xx means: `refused` (a RejectedError), or `caller` (no error: the caller
   * judges it, for channels where a 404 or a 409 has a meaning of its own). Default `caller`.
   */
  otherStatuses?: 'refused' | 'caller';
}

/** What the answer's status (or the channel's own rule) means, or undefined for an answer the caller judges. */
export function answerMeaning(res: HttpResponse, rules: Pick<StatusRules, 'means' | 'otherStatuses'>): AnswerMeaning | undefined {
  const own = rules.means?.(res);
  if (own !== undefined) return own;
  if (res.status === 429) return 'throttled';
  if (res.status === 401 || res.status === 403) return 'credentials';
  if (res.status >= 500) return 'unavailable';
  if ((res.status < 200 || res.status >= 300) && rules.otherStatuses === 'refused') return 'refused';
  return undefined;
}

/**
 * The SDK error a channel's answer stands for, or undefined when the call went through (or the caller judges
 * the status itself). A throttle carries the wait the channel asked for; an outage carries `Retry-After` when
 * the channel sent one.
 */
export function statusError(res: HttpResponse, rules: StatusRules): StockrelayError | undefined {
  const meaning = answerMeaning(res, rules);
  if (meaning === undefined) return undefined;
  const detail = rules.detail?.(res, meaning);
  const tail = detail ? `: ${detail}` : '';
  const { channel, what } = rules;
  switch (meaning) {
    case 'throttled': {
      const wait = rules.throttleWaitMs?.(res) ?? retryAfterHeaderMs(res.headers) ?? rules.defaultThrottleWaitMs ?? 1000;
      return new ThrottledError(`${channel} throttled ${what} (${res.status})${tail}`, { retryAfterMs: wait });
    }
    case 'credentials':
      return new RejectedError(`${channel} refused the credentials for ${what} (${res.status})${tail}`);
    case 'unavailable':
      return new RetryableError(`${channel} answered ${res.status} to ${what}${tail}`, { retryAfterMs: retryAfterHeaderMs(res.headers) });
    case 'refused':
      return new RejectedError(`${channel} refused ${what} (${res.status})${tail}`);
  }
}

/** Throws {@link statusError}'s error, if any: for calls whose every failure concerns the call as a whole. */
export function throwForStatus(res: HttpResponse, rules: StatusRules): void {
  const err = statusError(res, rules);
  if (err) throw err;
}
