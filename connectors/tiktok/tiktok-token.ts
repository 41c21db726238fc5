import { RejectedError, RetryableError } from '../../core/sdk.ts';
import type { HttpClient } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
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
  throwForStatus(res, {
    channel: 'TikTok',
    what: 'the token refresh',
    // Only status and TikTok's code: the request carries the app secret and the refresh token.
    detail: (_r, m) => (m === 'refused' || m === 'credentials' ? `code ${code ?? 'none'}: authorise the shop again if the refresh token was revoked or has lapsed` : undefined),
    // TikTok answers these inside its envelope, whatever the HTTP status.
    means: () => (code === Codes.RATE_LIMITED ? 'throttled' : code === Codes.INTERNAL ? 'unavailable' : undefined),
    otherStatuses: 'refused',
  });
  if (code !== Codes.OK) {
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
