import { compileOptionsSchema, validateConnectorOptions } from '../../../plugins/validate-connector-options.ts';
import type { CheckEnvironment } from '../check-environment.ts';
import { fail, failIfAny } from '../check-outcome.ts';

/** A key no connector declares: an options schema must refuse it, so a typo in config is caught at start. */
const UNKNOWN_KEY = 'conformanceUnknownOption';

/**
 * The options schema compiles the way the host compiles it (ajv, all errors, strict off), accepts the
 * options that reach the channel, and refuses both an empty object and an unknown key.
 */
export async function checkOptionsSchema(env: CheckEnvironment): Promise<string> {
  try {
    compileOptionsSchema(env.definition.optionsSchema);
  } catch (err) {
    fail(`optionsSchema does not compile: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  if (env.connectorOptions !== undefined) {
    const valid = validateConnectorOptions(env.definition, env.connectorOptions);
    if (!valid.ok) {
      const source = env.simulator ? "the simulator's connectorOptions" : 'the provided options';
      problems.push(`${source} do not validate: ${valid.problems.map((p) => `${p.path} ${p.message}`).join(', ')}`);
    }
  }
  if (validateConnectorOptions(env.definition, {}).ok) problems.push('{} validates: list the options a channel cannot work without under `required`');
  if (env.connectorOptions !== undefined && validateConnectorOptions(env.definition, { ...env.connectorOptions, [UNKNOWN_KEY]: true }).ok) {
    problems.push(`an unknown key ("${UNKNOWN_KEY}") validates: set additionalProperties: false so a misspelt option is refused`);
  }
  failIfAny(problems);
  return 'compiles; refuses {} and unknown keys';
}
