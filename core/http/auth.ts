import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HubConfig } from '../config/config-types.ts';
import { ErrorCodes } from '../errors.ts';
import { sendError } from './error-body.ts';

/**
 * `read`: inventory, channels, alerts, dashboard. `admin`: everything, operator actions included.
 * `metrics`: `/metrics` and `/healthz` only (when `http.protectMetrics` is on), for a scraper.
 */
export type TokenScope = 'read' | 'admin' | 'metrics';

/** One configured bearer token (`config.http.tokens`), its secret already resolved. */
export type ApiToken = HubConfig['http']['tokens'][number];

/** Who a request was authenticated as. */
export interface Principal {
  /** The token's configured name, when it has one (safe to log; the token itself never is). */
  name: string | undefined;
  scope: TokenScope;
}

/** The outcome of checking one request's credentials against the configured tokens. */
export type AuthResult =
  | { ok: true; principal: Principal }
  /** 401: no token, a malformed header, or a token nobody configured. 403: a valid token with too small a scope. */
  | {
      ok: false;
      status: 401 | 403;
      code: typeof ErrorCodes.UNAUTHORIZED | typeof ErrorCodes.FORBIDDEN;
      reason: 'missing_token' | 'invalid_token' | 'insufficient_scope';
      message: string;
    };

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none or it is malformed. */
export function bearerToken(header: string | readonly string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return undefined;
  return BEARER.exec(value)?.[1];
}

/** Whether a token of scope `held` may do what `needed` guards: admin includes every other scope. */
export function scopeAllows(held: TokenScope, needed: TokenScope): boolean {
  return held === 'admin' || held === needed;
}

/**
 * Checks an `Authorization` header against every configured token. Tokens are compared as SHA-256
 * digests with `timingSafeEqual`, and every configured token is compared whatever matched before, so
 * neither a token's length nor its position in the config shows in the response time.
 */
export function authorize(tokens: readonly ApiToken[], header: string | readonly string[] | undefined, needed: TokenScope): AuthResult {
  const presented = bearerToken(header);
  if (presented === undefined) return { ok: false, status: 401, code: ErrorCodes.UNAUTHORIZED, reason: 'missing_token', message: 'a bearer token is required (Authorization: Bearer <token>)' };
  const digest = sha256(presented);
  let match: ApiToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(digest, digestOf(token)) && match === undefined) match = token;
  }
  if (!match) return { ok: false, status: 401, code: ErrorCodes.UNAUTHORIZED, reason: 'invalid_token', message: 'the bearer token is not valid' };
  const principal: Principal = { name: match.name, scope: match.scope };
  if (!scopeAllows(match.scope, needed)) {
    return { ok: false, status: 403, code: ErrorCodes.FORBIDDEN, reason: 'insufficient_scope', message: `this route needs a token with the "${needed}" scope` };
  }
  return { ok: true, principal };
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** Who an authenticated request came from; undefined before (or without) {@link requireScope}. */
export function principalOf(request: FastifyRequest): Principal | undefined {
  return principals.get(request);
}

/**
 * A fastify `onRequest` hook that lets a request through only with a configured bearer token of at least
 * `scope`. Without a token, or with a wrong one, it answers 401 `SR_UNAUTHORIZED` with
 * `WWW-Authenticate: Bearer`; with a read token on an admin route, 403 `SR_FORBIDDEN` (the one error body).
 * With no tokens configured every request gets 401: the read API is never open by accident.
 *
 * Usage: `app.get('/v1/x', { onRequest: requireScope(ctx.config.http.tokens, 'read') }, handler)`.
 */
export function requireScope(tokens: readonly ApiToken[], scope: TokenScope): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const configured = Object.freeze([...tokens]);
  return async (request, reply) => {
    const result = authorize(configured, request.headers.authorization, scope);
    if (result.ok) {
      principals.set(request, result.principal);
      return;
    }
    // RFC 6750 §3: no error attribute when no credentials were sent at all.
    const challenge = result.reason === 'missing_token' ? 'Bearer realm="stockrelay"' : `Bearer realm="stockrelay", error="${result.reason}"${result.status === 403 ? `, scope="${scope}"` : ''}`;
    reply.header('www-authenticate', challenge);
    await sendError(reply, result.code, [result.message]);
  };
}

const digests = new WeakMap<ApiToken, Buffer>();

/** Configured tokens are frozen with the config: hash each once, not on every request. */
function digestOf(token: ApiToken): Buffer {
  let digest = digests.get(token);
  if (!digest) digests.set(token, (digest = sha256(token.token)));
  return digest;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
