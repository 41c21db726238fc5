import { ConfigError, type ConnectorContext } from '../../core/sdk.ts';
import type { HttpClient } from '../_kit/http-client.ts';
import type { EtsyOptions } from './options.ts';

/** The access token a call presents. */
export interface EtsyAccessToken {
  /** The token to send now. */
  get(signal?: AbortSignal): Promise<string>;
  /** Etsy refused `token` as expired or invalid: the next `get` renews it, when it can. */
  invalidate(token: string): void;
  /** Whether `invalidate` leads to a new token (a refresh token is configured). */
  readonly renewable: boolean;
}

/** The configured access token, as is. */
export function createEtsyAccessToken(options: EtsyOptions, _http: HttpClient, context: ConnectorContext): EtsyAccessToken {
  const token = options.accessToken;
  if (token === undefined) throw new ConfigError('options.accessToken is required', [{ path: 'options/accessToken', message: 'is required' }]);
  context.registerSecret(token);
  return { get: async () => token, invalidate() {}, renewable: false };
}
