import { describe, expect, it } from 'vitest';
import { retryAfterHeaderMs, retryAfterMs, type HttpResponse } from '../../connectors/_kit/http-client.ts';
import { statusError, throwForStatus } from '../../connectors/_kit/http-status.ts';
import { ErrorCodes, isRejectedError, isRetryableError, isThrottledError, retryAfterOf } from '../../core/sdk.ts';

const answer = (status: number, headers: HttpResponse['headers'] = {}, body: unknown = undefined): HttpResponse => ({ status, headers, body, elapsedMs: 1 });
const rules = { channel: 'acme', what: 'the stock batch' };

describe('kit Retry-After', () => {
  it('reads delay-seconds', () => {
    expect(retryAfterHeaderMs({ 'retry-after': '3' })).toBe(3000);
    expect(retryAfterHeaderMs({ 'retry-after': ['2', '9'] })).toBe(2000);
  });

  it('reads an HTTP date as the time left until it', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(retryAfterHeaderMs({ 'retry-after': 'Wed, 21 Oct 2026 07:28:05 GMT' }, now)).toBe(5000);
    expect(retryAfterHeaderMs({ 'retry-after': 'Wed, 21 Oct 2026 07:27:00 GMT' }, now)).toBe(0);
  });

  it('says nothing for a missing or unreadable header, and the caller picks the fallback', () => {
    expect(retryAfterHeaderMs({})).toBeUndefined();
    expect(retryAfterHeaderMs({ 'retry-after': 'soon' })).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, 1000)).toBe(1000);
  });
});

describe('kit status → error', () => {
  it('makes a 429 a throttle that waits what Retry-After asks, else a second', () => {
    const err = statusError(answer(429, { 'retry-after': '7' }), rules);
    expect(isThrottledError(err)).toBe(true);
    expect(err?.code).toBe(ErrorCodes.CONNECTOR_THROTTLED);
    expect(retryAfterOf(err)).toBe(7000);
    expect(retryAfterOf(statusError(answer(429), rules))).toBe(1000);
    expect(retryAfterOf(statusError(answer(429), { ...rules, defaultThrottleWaitMs: 250 }))).toBe(250);
  });

  it("prefers the channel's own throttle wait over Retry-After", () => {
    const err = statusError(answer(429, { 'retry-after': '7' }), { ...rules, throttleWaitMs: () => 120 });
    expect(retryAfterOf(err)).toBe(120);
    expect(retryAfterOf(statusError(answer(429, { 'retry-after': '7' }), { ...rules, throttleWaitMs: () => undefined }))).toBe(7000);
  });

  it('makes refused credentials a rejection, naming the channel, the call and the status', () => {
    for (const status of [401, 403]) {
      const err = statusError(answer(status), { ...rules, detail: () => 'invalid_key' });
      expect(isRejectedError(err)).toBe(true);
      expect(err?.message).toBe(`acme refused the credentials for the stock batch (${status}): invalid_key`);
    }
  });

  it('makes a 5xx retryable, carrying Retry-After only when the channel sent one', () => {
    const err = statusError(answer(503, { 'retry-after': '5' }), rules);
    expect(isRetryableError(err) && !isThrottledError(err)).toBe(true);
    expect(retryAfterOf(err)).toBe(5000);
    expect(retryAfterOf(statusError(answer(500), rules))).toBeUndefined();
  });

  it('leaves other statuses to the caller unless told they are refusals', () => {
    expect(statusError(answer(200), rules)).toBeUndefined();
    expect(statusError(answer(404), rules)).toBeUndefined();
    expect(isRejectedError(statusError(answer(404), { ...rules, otherStatuses: 'refused' }))).toBe(true);
    expect(statusError(answer(204), { ...rules, otherStatuses: 'refused' })).toBeUndefined();
  });

  it("lets a channel's own rule say what an answer means before its status does", () => {
    const envelope = answer(200, {}, { code: 36009003 });
    const means = (r: HttpResponse) => ((r.body as { code?: number } | undefined)?.code === 36009003 ? ('throttled' as const) : undefined);
    expect(isThrottledError(statusError(envelope, { ...rules, means }))).toBe(true);
    expect(() => throwForStatus(envelope, { ...rules, means })).toThrow(/acme throttled the stock batch/);
    expect(() => throwForStatus(answer(200), { ...rules, means })).not.toThrow();
  });
});
