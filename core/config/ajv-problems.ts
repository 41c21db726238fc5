import type { ErrorObject } from 'ajv';
import type { Problem } from '../errors.ts';

/**
 * Turns ajv errors into problems a person can act on: one per mistake, each at the JSON path of the
 * offending field (`/channels/1/id`), saying what is allowed and what was found.
 *
 * `basePath` is prefixed to every path (`options` gives `options/apiKey`).
 */
export function problemsFromAjv(errors: readonly ErrorObject[] | null | undefined, basePath = ''): Problem[] {
  if (!errors || errors.length === 0) return [];
  // Values under a schema marked `writeOnly` (a secret) are never quoted, whatever the rule they break.
  const secretPaths = errors.filter((e) => isRecord(e.parentSchema) && e.parentSchema.writeOnly === true).map((e) => e.instancePath);
  const isSecret = (error: ErrorObject): boolean => secretPaths.some((path) => isUnder(error.instancePath, path));
  // An anyOf/oneOf failure already says what was expected; the failures of each branch only add noise...
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  // ...unless the value's own type picks one branch ("a string, or {"env": ...}" given a string): then that
  // branch's failures say more ("at least 16 characters") than the summary.
  const chosen = new Map<ErrorObject, string>();
  for (const alt of alternatives) {
    const branch = branchForType(alt);
    if (branch !== undefined) chosen.set(alt, `${alt.schemaPath}/${branch}/`);
  }
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const inChosen = (alt: ErrorObject): boolean => chosen.has(alt) && error.schemaPath.startsWith(chosen.get(alt)!);
    if (chosen.has(error) && errors.some((e) => e !== error && e.schemaPath.startsWith(chosen.get(error)!))) continue;
    if (error.keyword !== 'anyOf' && error.keyword !== 'oneOf' && alternatives.some((alt) => isUnder(error.instancePath, alt.instancePath) && !inChosen(alt))) continue;
    // `if`/`then` report the branch failures themselves; the summary adds nothing.
    if (error.keyword === 'if') continue;
    const problem = toProblem(error, basePath, isSecret(error));
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

/** The index of the only branch of a failed anyOf/oneOf whose `type` is the value's type, if exactly one is. */
function branchForType(error: ErrorObject): number | undefined {
  if (!Array.isArray(error.schema)) return undefined;
  const kind = kindOf(error.data);
  const matches = (error.schema as unknown[]).flatMap((branch, i) => {
    if (!isRecord(branch)) return [];
    const type = branch.type;
    const types = Array.isArray(type) ? type : [type];
    return types.includes(kind) || (kind === 'integer' && types.includes('number')) ? [i] : [];
  });
  return matches.length === 1 ? matches[0] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUnder(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

function joinPath(basePath: string, instancePath: string, key?: string): string {
  const tail = key === undefined ? instancePath : `${instancePath}/${escapePointer(key)}`;
  if (basePath) return `${basePath}${tail}`;
  return tail || '/';
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  return typeof value;
}

function params<T>(error: ErrorObject): T {
  return error.params as T;
}

const FORMAT_NAMES: Record<string, string> = {
  'date-time': 'an ISO 8601 date-time with time zone (e.g. 2026-11-27T13:00:00Z)',
  date: 'an ISO 8601 date (e.g. 2026-11-27)',
  uri: 'an absolute URI',
  url: 'a URL',
  email: 'an e-mail address',
};

function toProblem(error: ErrorObject, basePath: string, secret = false): Problem {
  const at = joinPath(basePath, error.instancePath);
  // A secret's value is never quoted back: `(got ...)` would print it in a terminal or a log.
  const show = (value: unknown): string => (secret && (typeof value === 'string' || typeof value === 'number') ? 'a secret value, not shown' : showValue(value));
  switch (error.keyword) {
    case 'required': {
      const { missingProperty } = params<{ missingProperty: string }>(error);
      return { path: joinPath(basePath, error.instancePath, missingProperty), message: 'is required' };
    }
    case 'additionalProperties': {
      const { additionalProperty } = params<{ additionalProperty: string }>(error);
      const known = Object.keys((error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const allowed = known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
      return { path: joinPath(basePath, error.instancePath, additionalProperty), message: `unknown key "${additionalProperty}"${allowed}` };
    }
    case 'enum': {
      const { allowedValues } = params<{ allowedValues: unknown[] }>(error);
      return { path: at, message: `must be one of: ${allowedValues.map(show).join(', ')} (got ${show(error.data)})` };
    }
    case 'const': {
      const { allowedValue } = params<{ allowedValue: unknown }>(error);
      return { path: at, message: `must be ${show(allowedValue)} (got ${show(error.data)})` };
    }
    case 'type': {
      const { type } = params<{ type: string | string[] }>(error);
      const wanted = Array.isArray(type) ? type.join(' or ') : type;
      const got = typeof error.data === 'object' && error.data !== null ? kindOf(error.data) : show(error.data);
      return { path: at, message: `must be ${article(wanted)} ${wanted} (got ${got})` };
    }
    case 'pattern': {
      const { pattern } = params<{ pattern: string }>(error);
      return { path: at, message: `must match ${pattern} (got ${show(error.data)})` };
    }
    case 'format': {
      const { format } = params<{ format: string }>(error);
      return { path: at, message: `must be ${FORMAT_NAMES[format] ?? `a valid ${format}`} (got ${show(error.data)})` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const { comparison, limit } = params<{ comparison: string; limit: number }>(error);
      return { path: at, message: `must be ${comparison} ${limit} (got ${show(error.data)})` };
    }
    case 'minLength': {
      const { limit } = params<{ limit: number }>(error);
      return { path: at, message: limit === 1 ? 'must not be empty' : `must be at least ${limit} characters long` };
    }
    case 'maxLength': {
      const { limit } = params<{ limit: number }>(error);
      return { path: at, message: `must be at most ${limit} characters long (got ${String(error.data).length})` };
    }
    case 'minItems': {
      const { limit } = params<{ limit: number }>(error);
      return { path: at, message: `must have at least ${limit} ${limit === 1 ? 'item' : 'items'}` };
    }
    case 'maxItems': {
      const { limit } = params<{ limit: number }>(error);
      const count = Array.isArray(error.data) ? ` (got ${error.data.length})` : '';
      return { path: at, message: `must have at most ${limit} items${count}` };
    }
    case 'not': {
      const excluded = (error.schema as Record<string, unknown> | undefined) ?? {};
      if ('const' in excluded) return { path: at, message: `must not be ${show(excluded.const)}` };
      return { path: at, message: `must not match ${show(excluded)}` };
    }
    case 'anyOf':
    case 'oneOf': {
      const branches = Array.isArray(error.schema) ? (error.schema as unknown[]) : [];
      const described = branches.map(describeBranch);
      const lead = error.keyword === 'oneOf' ? 'must be exactly one of' : 'must be';
      return { path: at, message: `${lead} ${described.join(' or ')} (got ${show(error.data)})` };
    }
    default:
      return { path: at, message: error.message ?? `fails "${error.keyword}"` };
  }
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function describeBranch(branch: unknown): string {
  if (typeof branch !== 'object' || branch === null) return 'a value';
  const schema = branch as Record<string, unknown>;
  if (typeof schema.$ref === 'string' && /secretref$/i.test(schema.$ref)) return 'a secret reference {"env": "NAME"}';
  if (typeof schema.title === 'string') return schema.title;
  if (typeof schema.type === 'string') return `${article(schema.type)} ${schema.type}`;
  if ('const' in schema) return showValue(schema.const);
  return 'a matching value';
}
