/**
 * How a check ends early. A check function returns its pass detail; it throws one of these to say the
 * connector failed the check or the check does not apply. Anything else thrown counts as a failure too.
 */
export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

export class CheckSkipped extends Error {
  override name = 'CheckSkipped';
}

export function fail(detail: string): never {
  throw new CheckFailed(detail);
}

export function skip(detail: string): never {
  throw new CheckSkipped(detail);
}

/** Fails the check with every problem at once, so an author fixes them in one pass. */
export function failIfAny(problems: readonly string[]): void {
  if (problems.length > 0) fail(problems.join('; '));
}
