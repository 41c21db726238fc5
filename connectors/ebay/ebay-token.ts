import { RetryableError } from '../../core/sdk.ts';
import type { IssuedToken } from '../_kit/access-token-cache.ts';
import type { HttpClient } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import type { RefreshGrantResult } from '../_kit/refreshing-access-token.ts';
import { TOKEN_PATH, type EbayOAuthError, type EbayTokenResponse } from './api.ts';

export interface EbayAppCredentials {
  clientId: string;
  clientSecret: string;
}

/** The Basic credential eBay's token endpoint takes: base64(client_id:client_secret). Secret: register it. */
export function basicCredential({ clientId, clientSecret }: EbayAppCredentials): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
}

/**
 * One grant at eBay's token endpoint (`POST /identity/v1/oauth2/token`, form-encoded, Basic auth), judged:
 * an OAuth error (`invalid_grant`, `invalid_client`...) is a RejectedError naming only the error code, so no
 * token or credential ever reaches an error text; 429 throttles; 5xx and network failures are retryable.
 */
async function grant(http: HttpClient, basic: string, form: Record<string, string>, what: string, signal: AbortSignal): Promise<EbayTokenResponse> {
  const res = await http.request({
    method: 'POST',
    path: TOKEN_PATH,
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    signal,
  });
  const body = res.body as Partial<EbayTokenResponse & EbayOAuthError> | undefined;
  throwForStatus(res, {
    channel: 'eBay',
    what: `the ${what}`,
    // Only the OAuth error code: no token or credential ever reaches an error text.
    detail: (_r, m) => (m === 'refused' || m === 'credentials' ? `${typeof body?.error === 'string' && /^[a-z_]{1,40}$/.test(body.error) ? body.error : 'unknown_error'}: authorise the app again if the refresh token was revoked or has lapsed` : undefined),
    otherStatuses: 'refused',
  });
  if (typeof body?.access_token !== 'string' || body.access_token === '' || typeof body.expires_in !== 'number' || !(body.expires_in > 0)) {
    throw new RetryableError(`eBay answered the ${what} without an access token`);
  }
  return body as EbayTokenResponse;
}

/** A user access token from the refresh-token grant; eBay keeps the refresh token, so none comes back. */
export async function refreshEbayUserToken(http: HttpClient, basic: string, refreshToken: string, scopes: readonly string[], signal: AbortSignal): Promise<RefreshGrantResult> {
  const res = await grant(http, basic, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: scopes.join(' ') }, 'user token refresh', signal);
  return { accessToken: res.access_token, expiresInMs: res.expires_in * 1000 };
}

/** An application token (client-credentials grant), what getPublicKey asks for. */
export async function fetchEbayAppToken(http: HttpClient, basic: string, scope: string, signal: AbortSignal): Promise<IssuedToken> {
  const res = await grant(http, basic, { grant_type: 'client_credentials', scope }, 'application token request', signal);
  return { token: res.access_token, expiresInMs: res.expires_in * 1000 };
}
