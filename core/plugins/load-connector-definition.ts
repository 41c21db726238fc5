import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTRACT_VERSION, type ConnectorDefinition } from '../sdk.ts';
import { ErrorCodes, PluginError, describeError } from '../internal.ts';
import { listBuiltinConnectors, resolveConnectorSource, type ConnectorSource } from './resolve-connector.ts';
import { packageName } from './resolve-package.ts';
import { needsTypeScriptLoader, registerTypeScriptLoader } from './typescript-loader.ts';
import { compileOptionsSchema } from './validate-connector-options.ts';
import { bulkCapabilityProblems } from './bulk-capability-problems.ts';

/**
 * Imports the connector module `spec` names (see `resolveConnectorSource`) and checks its default export
 * is a connector definition this host can run, without calling `create`.
 *
 * Throws a {@link PluginError} naming `channelId` (default: the spec itself) and the cause:
 * `SR_PLUGIN_NOT_FOUND` when there is no such module, `SR_PLUGIN_CONTRACT` when it targets another
 * contract version, `SR_PLUGIN_INVALID` when it fails to import, has no default export, lacks a member,
 * declares impossible capabilities or an options schema ajv cannot compile.
 */
export async function loadConnectorDefinition(spec: string, configDir: string, channelId: string = spec): Promise<ConnectorDefinition> {
  const source = resolveConnectorSource(spec, configDir);
  const module = await importConnectorModule(source, configDir, channelId);
  const where = source.kind === 'package' ? `package "${spec}"` : `module ${source.file}`;
  if (!('default' in module) || module.default === undefined) {
    throw new PluginError(ErrorCodes.PLUGIN_INVALID, channelId, `connector ${where} has no default export (write \`export default defineConnector({...})\`)`);
  }
  const definition = checkDefinition(module.default, channelId, where);
  try {
    compileOptionsSchema(definition.optionsSchema);
  } catch (err) {
    throw new PluginError(ErrorCodes.PLUGIN_INVALID, channelId, `connector "${definition.name}" has an optionsSchema that is not valid JSON Schema: ${describeError(err)}`, { cause: err });
  }
  return definition;
}

async function importConnectorModule(source: ConnectorSource, configDir: string, channelId: string): Promise<Record<string, unknown>> {
  if (source.kind === 'package' && source.file === undefined) {
    if (source.packageDir !== undefined) {
      throw new PluginError(ErrorCodes.PLUGIN_NOT_FOUND, channelId, `connector package "${source.spec}" is installed at ${source.packageDir} but exports no module for import there`);
    }
    try {
      return (await import(/* @vite-ignore */ source.spec)) as Record<string, unknown>;
    } catch (err) {
      if (isMissingPackage(err, source.spec)) {
        const builtins = listBuiltinConnectors().join(', ') || 'none';
        throw new PluginError(
          ErrorCodes.PLUGIN_NOT_FOUND,
          channelId,
          `connector "${source.spec}" not found: it is neither a built-in connector (${builtins}) nor a package installed beside the config or beside stockrelay; a path must start with "./" or "/"`,
          { cause: err },
        );
      }
      throw new PluginError(ErrorCodes.PLUGIN_INVALID, channelId, `connector package "${source.spec}" failed to load: ${describeError(err)}`, { cause: err });
    }
  }
  if (source.file === undefined) {
    const tried = source.kind === 'package' ? [] : source.tried;
    const what = source.kind === 'builtin' ? `built-in connector "${source.spec}" has no index file` : `connector module "${source.spec}" not found`;
    throw new PluginError(ErrorCodes.PLUGIN_NOT_FOUND, channelId, `${what} (looked for ${tried.join(', ')})`);
  }
  const what = source.kind === 'package' ? `connector package "${source.spec}" (${source.file})` : `connector module ${source.file}`;
  if (needsTypeScriptLoader(source.file)) {
    try {
      await registerTypeScriptLoader([dirname(source.file), configDir]);
    } catch (err) {
      throw new PluginError(ErrorCodes.PLUGIN_INVALID, channelId, `${what} is TypeScript: ${describeError(err)}`, { cause: err });
    }
  }
  try {
    return (await import(/* @vite-ignore */ pathToFileURL(source.file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new PluginError(ErrorCodes.PLUGIN_INVALID, channelId, `${what} failed to load: ${describeError(err)}`, { cause: err });
  }
}

function isMissingPackage(err: unknown, spec: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const message = describeError(err);
  const name = packageName(spec);
  const mentionsIt = message.includes(`'${name}'`) || message.includes(`"${name}"`) || message.includes(` ${name} `) || message.includes(`'${spec}'`);
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return mentionsIt;
  // Test runners that transform modules report a missing package in their own words.
  return mentionsIt && /cannot find (package|module)|failed to (load|resolve)/i.test(message);
}

/**
 * The contract version is checked first: a plugin written for another contract is refused with that
 * reason, not with whatever member it happens to lack here.
 */
function checkDefinition(value: unknown, channelId: string, where: string): ConnectorDefinition {
  if (typeof value !== 'object' || value === null) {
    throw new PluginError(ErrorCodes.PLUGIN_INVALID, channelId, `the default export of connector ${where} is not a connector definition (got ${value === null ? 'null' : typeof value}); make it with defineConnector({...})`);
  }
  const def = value as Record<string, unknown>;
  const label = typeof def.name === 'string' && def.name !== '' ? `connector "${def.name}"` : `connector ${where}`;
  if (typeof def.contractVersion === 'number' && def.contractVersion !== CONTRACT_VERSION) {
    throw new PluginError(
      ErrorCodes.PLUGIN_CONTRACT,
      channelId,
      `${label} was written for contract version ${def.contractVersion}, but this hub implements contract version ${CONTRACT_VERSION}`,
    );
  }
  const problems: string[] = [];
  if (typeof def.name !== 'string' || def.name === '') problems.push(memberProblem('name', def.name, 'a non-empty string'));
  if (typeof def.contractVersion !== 'number') problems.push(memberProblem('contractVersion', def.contractVersion, `the number ${CONTRACT_VERSION}`));
  if (typeof def.create !== 'function') problems.push(memberProblem('create', def.create, 'a function'));
  if (!isRecord(def.optionsSchema)) problems.push(memberProblem('optionsSchema', def.optionsSchema, 'a JSON Schema object'));
  if (!isRecord(def.capabilities)) problems.push(memberProblem('capabilities', def.capabilities, 'an object'));
  else problems.push(...capabilityProblems(def.capabilities));
  if (def.simulator !== undefined && typeof def.simulator !== 'function') problems.push(memberProblem('simulator', def.simulator, 'a function when present'));
  if (problems.length > 0) {
    throw new PluginError(ErrorCodes.PLUGIN_INVALID, channelId, `${label} is not a valid connector definition: ${problems.join('; ')}`);
  }
  return value as ConnectorDefinition;
}

function memberProblem(member: string, value: unknown, expected: string): string {
  return value === undefined ? `${member} is missing (expected ${expected})` : `${member} must be ${expected}`;
}

function capabilityProblems(caps: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!isPositiveInteger(caps.maxBatchSize)) problems.push(memberProblem('capabilities.maxBatchSize', caps.maxBatchSize, 'a positive integer'));
  if (!isRecord(caps.rateLimit)) {
    problems.push(memberProblem('capabilities.rateLimit', caps.rateLimit, 'an object { perSecond, burst }'));
  } else {
    const { perSecond, burst } = caps.rateLimit;
    if (typeof perSecond !== 'number' || !(perSecond > 0) || !Number.isFinite(perSecond)) problems.push(memberProblem('capabilities.rateLimit.perSecond', perSecond, 'a number above 0'));
    if (typeof burst !== 'number' || !(burst >= 1) || !Number.isFinite(burst)) problems.push(memberProblem('capabilities.rateLimit.burst', burst, 'a number of at least 1'));
  }
  if (caps.quantityMode !== 'absolute') problems.push(memberProblem('capabilities.quantityMode', caps.quantityMode, '"absolute"'));
  if (caps.compareAndSet !== undefined && typeof caps.compareAndSet !== 'boolean') problems.push(memberProblem('capabilities.compareAndSet', caps.compareAndSet, 'a boolean'));
  if (caps.maxConcurrency !== undefined && !isPositiveInteger(caps.maxConcurrency)) problems.push(memberProblem('capabilities.maxConcurrency', caps.maxConcurrency, 'a positive integer'));
  if (caps.dailyRevisionsPerSku !== undefined && !isPositiveInteger(caps.dailyRevisionsPerSku)) problems.push(memberProblem('capabilities.dailyRevisionsPerSku', caps.dailyRevisionsPerSku, 'a positive integer'));
  problems.push(...bulkCapabilityProblems(caps.bulk));
  return problems;
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
