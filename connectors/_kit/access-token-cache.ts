/** A short-lived access token and how long the issuer said it lives. */
export interface IssuedToken {
  token: string;
  /** Lifetime in ms from the moment the issuer answered (OAuth `expires_in` × 1000). */
  expiresInMs: number;
}

export interface AccessTokenCache {
  /**
   * Called before every API request. Resolves a token that will still be valid `refreshMarginMs` from now,
   * fetching a new one when needed; concurrent callers share one fetch so a burst of pushes costs one token call.
   */
  get(signal?: AbortSignal): Promise<string>;
  /** Called when the API refused a token it should have accepted (revoked early): the next `get` fetches a new one. */
  invalidate(token: string): void;
}

/**
 * Caches an OAuth access token (Amazon LWA, Walmart client credentials...) and refreshes it shortly
 * before it expires, so no request is ever sent with a token about to lapse in flight.
 */
export function createAccessTokenCache(
  fetchToken: (signal?: AbortSignal) => Promise<IssuedToken>,
  options: { refreshMarginMs?: number; now?: () => number } = {},
): AccessTokenCache {
  const margin = options.refreshMarginMs ?? 60_000;
  const now = options.now ?? Date.now;
  let current: { token: string; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  const refresh = (signal?: AbortSignal): Promise<string> => {
    inFlight ??= (async () => {
      try {
        const issued = await fetchToken(signal);
        // A token shorter-lived than the margin would be refreshed on every call; keep at least half its life.
        const usable = Math.max(issued.expiresInMs - Math.min(margin, issued.expiresInMs / 2), 0);
        current = { token: issued.token, expiresAt: now() + usable };
        return issued.token;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  return {
    async get(signal) {
      if (current && current.expiresAt > now()) return current.token;
      return refresh(signal);
    },
    invalidate(token) {
      if (current?.token === token) current = undefined;
    },
  };
}
