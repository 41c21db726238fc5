import type { CheckEnvironment } from '../check-environment.ts';
import { failIfAny, skip } from '../check-outcome.ts';
import { unrecognisedBecause } from '../error-recognition.ts';
import { preview } from '../push-outcome.ts';

/**
 * Every error the connector threw during the run (outside calls whose signal had aborted) is one the host
 * recognises: the host classifies by the catalogue `code`, never by class, so a throttle from another
 * copy of the SDK without `code`, or a hand-made `ThrottledError`, would spend attempts and end in dead
 * letters. Ordinary failures without a code (a bug's TypeError) are retried as unclassified and are
 * reported by the checks that provoked them, not here.
 */
export async function checkErrorCodes(env: CheckEnvironment): Promise<string> {
  if (!env.instance) skip('needs the instance `create` makes, and create failed');
  const considered = env.thrown.filter((t) => !t.aborted);
  const problems = considered.flatMap((t) => {
    const because = unrecognisedBecause(t.error);
    return because ? [`${t.member}: ${because}`] : [];
  });
  failIfAny([...new Set(problems)]);
  const classified = considered.length;
  return classified === 0 ? 'the connector threw no error outside aborted calls' : `${classified} error(s) thrown, each with a catalogue code or an ordinary failure (${preview([...new Set(considered.map((t) => `${t.member}: ${(t.error as Error).name}`))], 4)})`;
}
