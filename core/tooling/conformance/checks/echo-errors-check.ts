import { writeOnlyValues } from '../../../secrets/secret-fields.ts';
import { REDACTED, SecretRegistry } from '../../../secrets/secret-registry.ts';
import type { SimulatorHandle } from '../../../sdk.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, skip } from '../check-outcome.ts';
import { withFault } from '../fault-injection.ts';
import { describeOutcome, preview, pushOutcome } from '../push-outcome.ts';
import { requireInstance } from './push-checks.ts';

/**
 * A credential in text: an Authorization header, or a header or field named like a token, key, secret or
 * password, with a value of 8 characters or more, as the echoed request shows it (JSON or header lines).
 */
const CREDENTIAL = /(authorization|[\w.-]*(?:token|api[-_]?key|secret|password)[\w.-]*)\\?["']?\s*[:=]\s*\\?["']?(?:(?:Basic|Bearer|Token)\s+)?([^\s"'\\,;}]{8,})/gi;

/** The texts of an error a host would log or store: its message and those of its causes. */
function errorTexts(err: unknown): string[] {
  const texts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    texts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return texts;
}

/**
 * While the channel answers errors that echo the whole request (headers included, as some APIs do), what
 * the connector reports must not carry a credential in the clear once the host has masked what it knows:
 * the options the schema marks `writeOnly`, and every value the connector gave `context.registerSecret`.
 * A credential the connector derives (a Basic pair, a fetched access token) and does not register would
 * reach logs and dead letters as is.
 */
export async function checkEchoedErrors(env: CheckEnvironment, signal: AbortSignal): Promise<string> {
  const instance = requireInstance(env);
  const simulator: SimulatorHandle = env.simulator ?? skip('needs the simulator to inject the fault');
  const updates = env.updates(env.knownSkus.slice(0, 1));
  const outcome = await withFault(simulator, { kind: 'echo-errors' }, () => pushOutcome(instance, updates, signal));
  let texts: string[];
  if (outcome.kind === 'threw') texts = errorTexts(outcome.error);
  else {
    const ok = outcome.results.filter((r) => r.status === 'ok').map((r) => r.sku);
    if (ok.length > 0) fail(`${preview(ok)} reported ok while the channel answered every request with an error`);
    texts = outcome.results.map((r) => ('reason' in r ? r.reason : ''));
  }
  const known = new SecretRegistry();
  for (const value of writeOnlyValues(env.definition.optionsSchema, env.connectorOptions ?? {})) known.add(value);
  for (const value of env.registeredSecrets) known.add(value);
  const masked = known.redact(texts.join('\n'));
  const leaked = [...masked.matchAll(CREDENTIAL)].filter((m) => !m[2]!.includes(REDACTED.slice(1, -1))).map((m) => `${m[1]} ${m[2]!.slice(0, 4)}…`);
  if (leaked.length > 0) {
    fail(`the error shows a credential the host cannot mask (${preview(leaked)}): pass every credential you derive (Basic pairs, access tokens) to context.registerSecret, or keep the echoed request out of error texts`);
  }
  return `${known.redact(describeOutcome(outcome))}; no credential in the clear after masking`;
}
