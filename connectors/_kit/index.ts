/**
 * The connector kit: what every channel connector and simulator needs beyond the SDK. Published as
 * `stockrelay/kit` so connectors written outside this repo use the same helpers as the built-in ones.
 */
export { answerMeaning, statusError, throwForStatus, type AnswerMeaning, type StatusRules } from './http-status.ts';
export { createHttpClient, headerNumber, headerValue, retryAfterHeaderMs, retryAfterMs, type HttpClient, type HttpClientOptions, type HttpRequest, type HttpResponse } from './http-client.ts';
export { hmacSha256, matchesAnySecret, safeEqual, secretList } from './signatures.ts';
export {
  createStandardWebhookVerifier,
  signStandardWebhook,
  standardWebhookHeaders,
  standardWebhookSecretProblem,
  verifyStandardWebhook,
  DEFAULT_TOLERANCE_SECONDS,
  STANDARD_WEBHOOK_HEADERS,
  STANDARD_WEBHOOK_SECRET_PATTERN,
  StandardWebhookSecretError,
  type StandardWebhookVerdict,
  type StandardWebhookVerifier,
} from './standard-webhooks.ts';
export { createAccessTokenCache, type AccessTokenCache, type IssuedToken } from './access-token-cache.ts';
export { createRefreshingAccessToken, refreshTokenFingerprint, type RefreshGrantResult, type RefreshingAccessTokenOptions } from './refreshing-access-token.ts';
export { CallPacer } from './call-pacer.ts';
export { FixedWindowCounter } from './rate-window.ts';
/** The one token bucket, for a simulator's server side and a connector's own pacing. */
export { TokenBucket, type BucketClock, type BucketTake } from '../../core/sdk.ts';
export {
  GENERIC_FAULT_KINDS,
  startSimServer,
  type EchoedRequest,
  type ItemFaultKind,
  type SimExchange,
  type SimRequest,
  type SimResponse,
  type SimRoute,
  type SimServer,
  type SimServerOptions,
} from './sim-server.ts';
export { orderEvent, orderEventId, type OrderEventFacts, type OrderEventType } from './order-events.ts';
export { createLatencySampler, sleep, type LatencyProfile } from './latency.ts';
export { startWebhookSink, type SinkDelivery, type WebhookSink } from './webhook-sink.ts';
