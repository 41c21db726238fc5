/** What a masked secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Shorter values are not masked: a 1–3 character "secret" would mask every occurrence of that text in
 * ordinary output, and no real credential is that short (config tokens need 16 characters).
 */
const MIN_SECRET_LENGTH = 4;

/**
 * Every secret value the hub knows: the ones the config resolved (options, tokens, URLs with
 * passwords) and the ones connectors obtained at run time (access tokens). `redact` masks each of them,
 * longest first, so text that goes to a log, a dead letter, an API answer or a terminal leaks none.
 *
 * A secret rarely travels as itself only: it is URL-encoded in a query, escaped inside JSON, base64'd
 * into a Basic credential with the user name before it. `add` registers those forms of a value too, and
 * `addPair` the `user:secret` credentials built from two configured values.
 */
export class SecretRegistry {
  readonly #values = new Set<string>();
  #sorted: string[] | null = null;

  /** Registers `value` and the forms it takes in transit (URL-encoded, JSON-escaped, base64). */
  add(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || this.#values.has(value)) return;
    this.#put(value);
    this.#put(encodeURIComponent(value));
    this.#put(JSON.stringify(value).slice(1, -1));
    this.#putBase64(value);
  }

  /**
   * Registers the credentials two configured values make together, `left:right` and its base64 forms
   * (HTTP Basic, OAuth client credentials): `left` is usually a client id or user name, not secret itself.
   */
  addPair(left: string, right: string): void {
    if (typeof left !== 'string' || typeof right !== 'string' || right.length < MIN_SECRET_LENGTH) return;
    const pair = `${left}:${right}`;
    this.#put(pair);
    this.#putBase64(pair);
  }

  get size(): number {
    return this.#values.size;
  }

  /** `text` with every known secret replaced by {@link REDACTED}. */
  redact(text: string): string {
    if (this.#values.size === 0 || typeof text !== 'string' || text.length < MIN_SECRET_LENGTH) return text;
    this.#sorted ??= [...this.#values].sort((a, b) => b.length - a.length);
    let out = text;
    for (const secret of this.#sorted) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** A copy of JSON-like `value` with every known secret masked in its strings (keys included). */
  redactValue<T>(value: T): T {
    if (this.#values.size === 0 || value === undefined) return value;
    try {
      return JSON.parse(this.redact(JSON.stringify(value))) as T;
    } catch {
      return value;
    }
  }

  #put(value: string): void {
    if (value.length < MIN_SECRET_LENGTH) return;
    this.#values.add(value);
    this.#sorted = null;
  }

  #putBase64(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    const standard = bytes.toString('base64');
    this.#put(standard);
    // Padding differs with what follows; the unpadded form matches either way.
    this.#put(standard.replace(/=+$/, ''));
    this.#put(bytes.toString('base64url'));
  }
}
