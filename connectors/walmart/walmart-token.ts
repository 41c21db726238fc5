import { randomUUID } from 'node:crypto';
import { RejectedError } from '../../core/sdk.ts';
import type { IssuedToken } from '../_kit/access-token-cache.ts';
import type { HttpClient } from '../_kit/http-client.ts';
import { throwForStatus } from '../_kit/http-status.ts';
import { TOKEN_PATH, type WalmartError, type WalmartTokenResponse } from './api.ts';
import { describeErrors } from './describe-errors.ts';

/** `Basic base64(clientId:clientSecret)`, sent to the token API and, as documented samples do, on every call. */
export const basicAuthorization = (clientId: string, clientSecret: string): string =>
  `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;

/** Walmart's client-credentials grant: a 15-minute access token for the seller's own account. */
export async function fetchWalmartToken(
  http: HttpClient,
  credentials: { clientId: string; clientSecret: string; serviceName: string },
  signal?: AbortSignal,
): Promise<IssuedToken> {
  const res = await http.request({
    method: 'POST',
    path: TOKEN_PATH,
    headers: {
      authorization: basicAuthorization(credentials.clientId, credentials.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'wm_qos.correlation_id': randomUUID(),
      'wm_svc.name': credentials.serviceName,
    },
    body: 'grant_type=client_credentials',
    signal,
  });
  const body = res.body as Partial<WalmartTokenResponse> & { errors?: WalmartError[] };
  if (res.status === 200 && typeof body?.access_token === 'string') {
    return { token: body.access_token, expiresInMs: (body.expires_in ?? 900) * 1000 };
  }
  throwForStatus(res, { channel: 'walmart', what: 'the token request', detail: () => describeErrors(body), otherStatuses: 'refused' });
  throw new RejectedError(`walmart token API answered ${res.status} without an access token: ${describeErrors(body)}`);
}
