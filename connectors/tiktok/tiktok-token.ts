import { RejectedError, RetryableError, ThrottledError } from '../../core/sdk.ts';
import { retryAfterMs, type HttpClient } from '../_kit/http-client.ts';
import type { RefreshGrantResult } from '../_kit/refreshing-access-token.ts';
import { Codes, TOKEN_REFRESH_PATH, type TiktokEnvelope, type TokenData } from './api.ts';

/**
 * One refresh at TikTok Shop's token endpoint. The app secret and the refresh token travel in the query string,
 * as TikTok's API asks, so no error raised here ever quotes the request: only status and TikTok's code.
 * `*_expire_in` are absolute unix timestamps; they become lifetimes from now.
 */
export async function refreshTiktokToken(
  http: HttpClient,
  app: { appKey: string; appSecret: string },
  refreshToken: string,
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<RefreshGrantResult> {
  const query = new URLSearchParams({ app_key: app.appKey, app_secret: app.appSecret, refresh_token: refreshToken, grant_type: 'refresh_token' });
  let res;
  try {
    res = await http.request({ method: 'GET', path: `${TOKEN_REFRESH_PATH}?${query}`, headers: { 'content-type': 'application/json' }, signal });
  } catch (err) {
    if (signal.aborted) throw new RetryableError('TikTok token refresh timed out');
    throw new RetryableError(`TikTok token refresh failed: ${(err as Error).name}`);
  }
  const envelope = res.body as Partial<TiktokEnvelope<Partial<TokenData>>> | undefined;
  const code = typeof envelope?.code === 'number' ? envelope.code : undefined;
  if (res.status === 429 || code === Codes.RATE_LIMITED) throw new ThrottledError('TikTok throttled the token refresh', { retryAfterMs: retryAfterMs(res.headers, 1000) });
  if (res.status >= 500 || code === Codes.INTERNAL) throw new RetryableError(`TikTok answered ${res.status} to the token refresh`);
  if (res.status !== 200 || code !== Codes.OK) {
    throw new RejectedError(`TikTok refused the token refresh (${res.status}, code ${code ?? 'none'}): authorise the shop again if the refresh token was revoked or has lapsed`);
  }
  const data = envelope?.data;
  const expiresAt = typeof data?.access_token_expire_in === 'number' ? data.access_token_expire_in * 1000 : NaN;
  if (typeof data?.access_token !== 'string' || data.access_token === '' || !(expiresAt > now())) {
    throw new RetryableError('TikTok answered the token refresh without a usable access token');
  }
  const refreshExpiresAt = typeof data.refresh_token_expire_in === 'number' ? data.refresh_token_expire_in * 1000 : undefined;
  return {
    accessToken: data.access_token,
    expiresInMs: expiresAt - now(),
    ...(typeof data.refresh_token === 'string' && data.refresh_token !== '' ? { refreshToken: data.refresh_token } : {}),
    ...(refreshExpiresAt !== undefined ? { refreshExpiresInMs: refreshExpiresAt - now() } : {}),
  };
}
