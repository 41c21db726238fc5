import { RejectedError } from '../../core/sdk.ts';
import type { IssuedToken } from '../_kit/access-token-cache.ts';
import { createHttpClient, type HttpClient } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import type { LwaTokenResponse } from './api.ts';

export interface LwaCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export interface LwaTokenSource {
  /** Exchanges the refresh token for a fresh access token (valid one hour at Amazon). */
  fetch(signal?: AbortSignal): Promise<IssuedToken>;
  close(): Promise<void>;
}

/** Login with Amazon's refresh-token grant, the only way an SP-API application obtains access tokens. */
export function createLwaTokenSource(tokenUrl: string, credentials: LwaCredentials): LwaTokenSource {
  const url = new URL(tokenUrl);
  const http: HttpClient = createHttpClient(url.origin, { connections: 1 });
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: credentials.refreshToken,
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
  }).toString();

  return {
    async fetch(signal) {
      const res = await http.request({
        method: 'POST',
        path: url.pathname + url.search,
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
        body: form,
        signal,
      });
      const body = res.body as Partial<LwaTokenResponse> & { error?: string; error_description?: string };
      if (res.status === 200 && typeof body?.access_token === 'string') {
        return { token: body.access_token, expiresInMs: (body.expires_in ?? 3600) * 1000 };
      }
      const detail = `${typeof body?.error === 'string' ? body.error.slice(0, 80) : ''}${typeof body?.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : ''}`;
      throwForStatus(res, { channel: 'Login with Amazon', what: 'the token request', detail: () => detail, otherStatuses: 'refused' });
      throw new RejectedError(`Login with Amazon answered ${res.status} without an access token`);
    },
    close: () => http.close(),
  };
}
