import { readFile } from 'node:fs/promises';
import { asSuiteResult, type SuiteResult } from '../../bench/suite-result.ts';
import { UsageError, describeError } from '../internal.ts';

/** The earlier result `--compare` names, read before anything runs so a wrong path fails at once. */
export async function readComparison(file: string): Promise<SuiteResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--compare: cannot read ${file}: ${describeError(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--compare: ${file} is not JSON: ${describeError(err)}`);
  }
  try {
    return asSuiteResult(json, file);
  } catch (err) {
    throw new UsageError(describeError(err));
  }
}
