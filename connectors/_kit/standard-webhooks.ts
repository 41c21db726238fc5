import { Webhook } from 'standardwebhooks';
import { safeEqual } from './signatures.ts';

/**
 * The Standard Webhooks signature scheme (standardwebhooks.com), through its reference library
 * (`standardwebhooks`): the signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`, the key is
 * the base64-decoded secret (with or without its `whsec_` prefix, as the reference decodes it), and
 * `webhook-signature` carries one or more space-separated `v1,<base64>` entries so a sender can sign
 * with an old and a new secret during a rotation.
 *
 * What this module adds to the reference library: a configurable replay window (the library's is fixed
 * at five minutes), several active secrets, and a timestamp that must be written canonically, so that
 * the signature always covers the header exactly as it was sent (the library signs the parsed number:
 * `0123` or `123abc` would otherwise verify as `123`).
 */
export const STANDARD_WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/** Default replay window of the specification: five minutes either side of our clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * JSON Schema pattern for a signing secret: base64 (optionally unpadded, as the reference accepts it)
 * with or without `whsec_`. Options schemas use it so `stockrelay validate` refuses `whsec_`, `whsec_!!!!`
 * and other secrets the reference library would refuse, before anything runs.
 */
export const STANDARD_WEBHOOK_SECRET_PATTERN = '^(whsec_)?[A-Za-z0-9+/]{2,}={0,2}$';

const NOT_BASE64 = 'is not base64 (A-Z, a-z, 0-9, + and /, optionally padded with =) after the optional whsec_ prefix';

/** A canonical Unix time in seconds: digits, no sign, no leading zero, no fraction. */
const CANONICAL_TIMESTAMP = /^(0|[1-9]\d{0,14})$/;

/**
 * Why `secret` cannot be used as a Standard Webhooks secret, or undefined when it can. Never contains
 * the secret itself, so the answer may be shown to the user.
 */
export function standardWebhookSecretProblem(secret: unknown): string | undefined {
  if (typeof secret !== 'string' || secret === '') return 'is empty';
  if (secret === 'whsec_') return 'holds no key after the whsec_ prefix';
  // Stricter than the reference decoder, which drops a stray trailing character: a secret that does not read
  // as base64 was mistyped, and the options schema refuses it with this same pattern.
  if (!new RegExp(STANDARD_WEBHOOK_SECRET_PATTERN).test(secret)) return NOT_BASE64;
  try {
    new Webhook(secret);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    if (/empty/i.test(message)) return 'holds no key after the whsec_ prefix';
    return NOT_BASE64;
  }
}

/**
 * A signing secret the reference library would refuse. Thrown from a connector's `create`, it stops the
 * channel at start; the message names the option, never its value.
 */
export class StandardWebhookSecretError extends Error {
  override name = 'StandardWebhookSecretError';
  constructor(
    /** The option at fault, e.g. `options.webhookSecret[1]`. */
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/** Signers for the active secrets; throws a {@link StandardWebhookSecretError} when one of them is not usable. */
function webhooksFor(secrets: readonly string[], field: string): Webhook[] {
  return secrets.map((secret, i) => {
    const problem = standardWebhookSecretProblem(secret);
    if (problem) throw new StandardWebhookSecretError(secrets.length > 1 ? `${field}[${i}]` : field, problem);
    return new Webhook(secret);
  });
}

/**
 * The `v1,<base64>` entry for one message under one secret. `timestamp` is the `webhook-timestamp`
 * header as sent (or its number of seconds); it must be canonical.
 */
export function signStandardWebhook(secret: string, id: string, timestamp: number | string, body: string | Buffer): string {
  const header = String(timestamp);
  if (!CANONICAL_TIMESTAMP.test(header)) throw new RangeError('webhook-timestamp must be a whole number of seconds without leading zeros');
  const [webhook] = webhooksFor([secret], 'secret');
  return webhook!.sign(id, new Date(Number(header) * 1000), body);
}

export type StandardWebhookVerdict = { ok: true } | { ok: false; reason: string };

export interface StandardWebhookVerifierOptions {
  /** Largest accepted distance between `webhook-timestamp` and our clock. Default 300 s. */
  toleranceSeconds?: number;
  /** The option's name in error messages, e.g. `options.webhookSecret`. */
  field?: string;
}

export type StandardWebhookVerifier = (
  headers: Readonly<Record<string, string | undefined>>,
  rawBody: Buffer,
  nowSeconds?: number,
) => StandardWebhookVerdict;

/**
 * A verifier for the active secrets. Throws a {@link StandardWebhookSecretError} at once when a secret is
 * not usable, so a channel fails at start (naming the field) rather than at its first delivery.
 */
export function createStandardWebhookVerifier(secrets: readonly string[], options: StandardWebhookVerifierOptions = {}): StandardWebhookVerifier {
  const webhooks = webhooksFor(secrets, options.field ?? 'webhook secret');
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  return (headers, rawBody, nowSeconds = Math.floor(Date.now() / 1000)) => {
    const id = headers[STANDARD_WEBHOOK_HEADERS.id];
    const timestamp = headers[STANDARD_WEBHOOK_HEADERS.timestamp];
    const signature = headers[STANDARD_WEBHOOK_HEADERS.signature];
    if (!id || !timestamp || !signature) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
    if (!CANONICAL_TIMESTAMP.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a Unix time in whole seconds' };
    if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) return { ok: false, reason: `webhook-timestamp is more than ${tolerance} s away from now` };
    const given = signature.split(' ').filter((entry) => entry.startsWith('v1,'));
    if (given.length === 0) return { ok: false, reason: 'webhook-signature holds no v1 entry' };
    if (webhooks.length === 0) return { ok: false, reason: 'no webhook secret is configured' };
    let matched = false;
    // Every pair is compared (no early exit) so timing does not tell which secret or entry matched.
    for (const webhook of webhooks) {
      const expected = webhook.sign(id, new Date(Number(timestamp) * 1000), rawBody);
      for (const entry of given) if (safeEqual(expected, entry)) matched = true;
    }
    return matched ? { ok: true } : { ok: false, reason: 'no webhook-signature entry matches an active secret' };
  };
}

/**
 * Checks the three headers against every active secret. Fails on a missing header, a timestamp outside
 * the tolerance (replays) or not canonical, or no matching `v1` entry; throws a
 * {@link StandardWebhookSecretError} for a secret that cannot be used.
 */
export function verifyStandardWebhook(
  secrets: readonly string[],
  headers: Readonly<Record<string, string | undefined>>,
  rawBody: Buffer,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): StandardWebhookVerdict {
  return createStandardWebhookVerifier(secrets, options)(headers, rawBody, options.nowSeconds);
}

/** The three headers a Standard Webhooks sender puts on `rawBody`, signed now (or at `timestampSeconds`). */
export function standardWebhookHeaders(secret: string, id: string, rawBody: Buffer | string, timestampSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    [STANDARD_WEBHOOK_HEADERS.id]: id,
    [STANDARD_WEBHOOK_HEADERS.timestamp]: String(timestampSeconds),
    [STANDARD_WEBHOOK_HEADERS.signature]: signStandardWebhook(secret, id, timestampSeconds, rawBody),
  };
}
