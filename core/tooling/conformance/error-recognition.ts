import { ErrorCodes } from '../../sdk.ts';

const CATALOGUE: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** Names of the SDK's error classes: an error so named that lacks the code was meant to be classified. */
const SDK_CLASS_NAMES: ReadonlySet<string> = new Set([
  'StockrelayError',
  'RetryableError',
  'ThrottledError',
  'RejectedError',
  'WebhookSignatureError',
  'WebhookPayloadError',
]);

/**
 * Why the host would not recognise `error` as the classified error it was meant to be, or `undefined`
 * when it would (or when it is an ordinary failure the host simply retries). The host reads an error's
 * `code` and never its class, so a throttle from another copy of the SDK without `code`, or a hand-made
 * `ThrottledError`, would be treated as an unclassified failure: 429s would spend attempts and end in
 * dead letters, and a forged webhook would be answered 503 instead of 401.
 */
export function unrecognisedBecause(error: unknown): string | undefined {
  if (!(error instanceof Error)) return `threw a non-error value (${typeof error}); throw one of the SDK's errors`;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CATALOGUE.has(code)) return undefined;
  const label = `${error.name}${typeof code === 'string' ? ` with code "${code}"` : ' without a code'}`;
  if (typeof code === 'string' && code.startsWith('SR_')) return `${label}: not a code of this host's catalogue (${[...CATALOGUE].filter((c) => c.startsWith('SR_CONNECTOR') || c.startsWith('SR_WEBHOOK')).join(', ')})`;
  if (SDK_CLASS_NAMES.has(error.name)) {
    return `${label}: named like the SDK's class but without its catalogue code, so the host would treat it as unclassified (an SDK copy too old, or a class of your own): throw the SDK's ${error.name}`;
  }
  if (typeof (error as { retryAfterMs?: unknown }).retryAfterMs === 'number') {
    return `${label} carries retryAfterMs, but only an error with code ${ErrorCodes.CONNECTOR_THROTTLED} or ${ErrorCodes.CONNECTOR_RETRYABLE} is waited on: throw ThrottledError or RetryableError`;
  }
  return undefined;
}
