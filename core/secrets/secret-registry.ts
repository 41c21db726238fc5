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
 */
export class SecretRegistry {
  readonly #values = new Set<string>();
  #sorted: string[] | null = null;

  add(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || this.#values.has(value)) return;
    this.#values.add(value);
    this.#sorted = null;
  }

  get size(): number {
    return this.#values.size;
  }

  /** `text` with every known secret replaced by {@link REDACTED}. */
  redact(text: string): string {
    if (this.#values.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
    this.#sorted ??= [...this.#values].sort((a, b) => b.length - a.length);
    let out = text;
    for (const secret of this.#sorted) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }
}
