import { createHash } from 'node:crypto';
import { RetryableError, untilAborted, type ConnectorStateStore } from '../../core/sdk.ts';
import type { AccessTokenCache } from './access-token-cache.ts';

/** What one refresh-token grant (`grant_type=refresh_token`) answered. */
export interface RefreshGrantResult {
  accessToken: string;
  /** Access token lifetime in ms from the moment the issuer answered (OAuth `expires_in` × 1000). */
  expiresInMs: number;
  /**
   * The refresh token to use next time, when the issuer rotates them (Etsy, TikTok). Omit when it keeps
   * the same one (eBay): the current refresh token stays in use.
   */
  refreshToken?: string;
  /** Lifetime of the returned (or current) refresh token in ms, when the issuer says. */
  refreshExpiresInMs?: number;
}

export interface RefreshingAccessTokenOptions {
  /**
   * Performs one refresh-token grant against the channel's token endpoint. Must honour `signal` (aborted
   * after `refreshTimeoutMs`) and throw the SDK's error classes: a RejectedError when the refresh token
   * itself is refused (revoked, expired), a RetryableError when the endpoint is down or throttles.
   */
  refresh(refreshToken: string, signal: AbortSignal): Promise<RefreshGrantResult>;
  /** The refresh token from the channel's options (the seller's authorisation). */
  initialRefreshToken: string;
  /** The channel's durable connector state, where rotated refresh tokens survive restarts. */
  state: ConnectorStateStore;
  /** Key in `state`; one per token family if a connector holds several. Default `oauth.refresh-token`. */
  stateKey?: string;
  /** The context's `registerSecret`: every token obtained is masked from then on. */
  registerSecret(value: string): void;
  /** Refresh this long before the access token expires (at most half its life). Default 60 s. */
  refreshMarginMs?: number;
  /** Upper bound of one refresh call. Default 30 s. */
  refreshTimeoutMs?: number;
  now?: () => number;
}

/** What is kept in `state`: the rotated refresh token and, never the configured token itself, its fingerprint. */
interface StoredRefresh {
  v: 1;
  /** Fingerprint of the configured refresh token this rotation chain started from. */
  configured: string;
  refreshToken: string;
  /** Epoch ms after which the issuer said `refreshToken` lapses, when it said. */
  refreshExpiresAt?: number;
}

/**
 * A one-way fingerprint of a configured refresh token: lets a restart tell "the seller re-authorised and put
 * a new refresh token in the config" from "the config still holds the token our stored chain started from"
 * without storing that token. Tokens are high-entropy, so a plain SHA-256 reveals nothing usable.
 */
export function refreshTokenFingerprint(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

function parseStored(raw: string | undefined): StoredRefresh | undefined {
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<StoredRefresh>;
    if (value.v !== 1 || typeof value.configured !== 'string' || typeof value.refreshToken !== 'string' || value.refreshToken === '') return undefined;
    return {
      v: 1,
      configured: value.configured,
      refreshToken: value.refreshToken,
      ...(typeof value.refreshExpiresAt === 'number' ? { refreshExpiresAt: value.refreshExpiresAt } : {}),
    };
  } catch {
    return undefined; // A value we cannot read is as good as none: start again from the configured token.
  }
}

/**
 * An OAuth access token kept fresh with the refresh-token grant (eBay, Etsy, TikTok user tokens).
 *
 * - `get` answers the cached access token while it has more than the margin left, else refreshes;
 *   concurrent callers share ONE refresh, and a caller whose signal aborts leaves without cancelling it
 *   for the others (the refresh has its own timeout).
 * - `invalidate(token)` after the channel answered "expired/invalid token": the next `get` refreshes, once
 *   for all the requests that failed with that same token.
 * - A rotated refresh token is written to `state` before the new access token is handed out, so a restart
 *   (or another hub taking the channel over) continues the chain instead of presenting a refresh token the
 *   issuer has already retired. A refresh token changed in the config since the chain started wins over the
 *   stored one (the fingerprint tells); the configured token itself is never stored.
 * - Every token seen (configured, stored, rotated, access) is passed to `registerSecret`; none is logged.
 */
export function createRefreshingAccessToken(options: RefreshingAccessTokenOptions): AccessTokenCache {
  const { state, registerSecret } = options;
  const stateKey = options.stateKey ?? 'oauth.refresh-token';
  const margin = options.refreshMarginMs ?? 60_000;
  const timeoutMs = options.refreshTimeoutMs ?? 30_000;
  const now = options.now ?? Date.now;
  const configured = options.initialRefreshToken;
  if (typeof configured !== 'string' || configured === '') throw new TypeError('initialRefreshToken must be a non-empty string');
  const configuredPrint = refreshTokenFingerprint(configured);
  registerSecret(configured);

  let access: { token: string; refreshAt: number } | undefined;
  /** The refresh token in use, once read from state or rotated; undefined until the first refresh. */
  let refreshToken: string | undefined;
  let refreshExpiresAt: number | undefined;
  let inFlight: Promise<string> | undefined;

  /** The refresh token to present: the stored chain when it started from the configured token, else the configured one. */
  const currentRefreshToken = async (): Promise<string> => {
    // A rotation the store has not taken yet is newer than anything stored.
    if (unstored && refreshToken !== undefined) return refreshToken;
    let stored: StoredRefresh | undefined;
    try {
      stored = parseStored(await state.get(stateKey));
    } catch (err) {
      // A rotating issuer may have retired the configured token already: guessing would burn it. Keep using
      // what this process holds, or let the caller retry once the state store answers again.
      if (refreshToken !== undefined) return refreshToken;
      throw new RetryableError('cannot read the stored OAuth refresh token (connector state unavailable)', { cause: err });
    }
    if (stored && stored.configured === configuredPrint) {
      registerSecret(stored.refreshToken);
      refreshToken = stored.refreshToken;
      refreshExpiresAt = stored.refreshExpiresAt;
    } else {
      refreshToken = configured;
      refreshExpiresAt = undefined;
    }
    return refreshToken;
  };

  /** True while a rotated refresh token lives only in this process (the state store refused the write). */
  let unstored = false;
  let storing: Promise<void> | undefined;
  const storeRotated = (): Promise<void> => {
    storing ??= (async () => {
      const token = refreshToken;
      if (!unstored || token === undefined) return;
      const value: StoredRefresh = { v: 1, configured: configuredPrint, refreshToken: token, ...(refreshExpiresAt !== undefined ? { refreshExpiresAt } : {}) };
      try {
        await state.set(stateKey, JSON.stringify(value));
        if (refreshToken === token) unstored = false;
      } catch {
        // Retried at the next `get`; the token in memory keeps the chain alive meanwhile.
      }
    })().finally(() => {
      storing = undefined;
    });
    return storing;
  };

  const runRefresh = async (): Promise<string> => {
    const presented = await currentRefreshToken();
    const signal = AbortSignal.timeout(timeoutMs);
    let grant: RefreshGrantResult;
    try {
      grant = await options.refresh(presented, signal);
    } catch (err) {
      if (refreshExpiresAt !== undefined && refreshExpiresAt <= now() && err instanceof Error) {
        err.message = `${err.message} (the refresh token lapsed ${new Date(refreshExpiresAt).toISOString()}: authorise the app again and put the new refresh token in the channel's options)`;
      }
      throw err;
    }
    if (typeof grant?.accessToken !== 'string' || grant.accessToken === '' || !Number.isFinite(grant.expiresInMs) || grant.expiresInMs <= 0) {
      throw new RetryableError('the token endpoint answered without a usable access token');
    }
    registerSecret(grant.accessToken);
    const issuedAt = now();
    const rotated = typeof grant.refreshToken === 'string' && grant.refreshToken !== '' && grant.refreshToken !== presented ? grant.refreshToken : undefined;
    if (rotated !== undefined) {
      registerSecret(rotated);
      refreshToken = rotated;
      refreshExpiresAt = grant.refreshExpiresInMs !== undefined && Number.isFinite(grant.refreshExpiresInMs) ? issuedAt + grant.refreshExpiresInMs : undefined;
      // Most rotating issuers retire `presented` now: a restart must find the new token. Store it before the
      // access token is handed out; when the store is down the token still works in this process, so hand it
      // out and keep trying to store it (a crash before that succeeds would need the seller to authorise again).
      unstored = true;
      await storing; // a store of an older token may be under way; then store this one
      await storeRotated();
    } else if (grant.refreshExpiresInMs !== undefined && Number.isFinite(grant.refreshExpiresInMs)) {
      refreshExpiresAt = issuedAt + grant.refreshExpiresInMs;
    }
    const usable = Math.max(grant.expiresInMs - Math.min(margin, grant.expiresInMs / 2), 0);
    access = { token: grant.accessToken, refreshAt: issuedAt + usable };
    return grant.accessToken;
  };

  return {
    get(signal) {
      if (unstored) void storeRotated();
      if (access && access.refreshAt > now()) return Promise.resolve(access.token);
      inFlight ??= runRefresh().finally(() => {
        inFlight = undefined;
      });
      // This caller may leave when its own signal aborts; the refresh goes on for the others.
      return untilAborted(inFlight, signal);
    },
    invalidate(token) {
      if (access?.token === token) access = undefined;
    },
  };
}
