import type { ErrorObject, ValidateFunction } from 'ajv';
import { EVENT_TYPES, type InventoryEvent } from './event-types.ts';
import type { Problem } from '../errors.ts';
import { EVENT_SCHEMAS } from './event-schemas.ts';
import { createAjv } from '../config/create-ajv.ts';
import { problemsFromAjv } from '../config/ajv-problems.ts';

export { EVENT_SCHEMAS } from './event-schemas.ts';

export type ParsedEvent = { ok: true; event: InventoryEvent } | { ok: false; reason: string; problems: Problem[] };

// Compiled once at module load: parseEvent runs for every inbound message.
const validators: ReadonlyMap<string, ValidateFunction> = (() => {
  const ajv = createAjv({ useDefaults: false, strict: true });
  return new Map(EVENT_TYPES.map((type) => [type, ajv.compile(EVENT_SCHEMAS[type])]));
})();

const decoder = new TextDecoder('utf-8', { fatal: true });
const TYPE_LIST = EVENT_TYPES.join(', ');
const MAX_REASON_PROBLEMS = 10;

/**
 * Parses and validates one inbound event. Never throws: an unusable message yields a `reason` fit for a
 * dead letter, naming each offending field, plus the same problems one by one.
 *
 * `subjectType` is the type the subject carried (`<prefix>.in.<type>`); an event whose own `type` differs
 * is refused, so a consumer filtering by subject never applies a command it did not ask for.
 */
export function parseEvent(data: Uint8Array | string, subjectType?: string): ParsedEvent {
  let text: string;
  try {
    text = typeof data === 'string' ? data : decoder.decode(data);
  } catch {
    return fail('not UTF-8 text', [{ path: '/', message: 'is not valid UTF-8' }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(`not JSON: ${(err as Error).message}`, [{ path: '/', message: `is not valid JSON (${(err as Error).message})` }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    return fail(`not a JSON object (got ${got})`, [{ path: '/', message: `must be an object (got ${got})` }]);
  }
  const type = (value as { type?: unknown }).type;
  if (type === undefined) {
    return fail(`missing field "type" (one of: ${TYPE_LIST})`, [{ path: '/type', message: `is required (one of: ${TYPE_LIST})` }]);
  }
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (!validate) {
    const problem = { path: '/type', message: `must be one of: ${TYPE_LIST} (got ${JSON.stringify(type)})` };
    return fail(`unknown event type ${JSON.stringify(type)} (one of: ${TYPE_LIST})`, [problem]);
  }
  if (subjectType !== undefined && type !== subjectType) {
    const problem = { path: '/type', message: `is "${String(type)}" but the subject says "${subjectType}"` };
    return fail(`event type "${String(type)}" does not match its subject type "${subjectType}"`, [problem]);
  }
  if (!validate(value)) {
    const problems = problemsOf(validate.errors ?? []);
    return fail(`invalid ${String(type)} event: ${summarize(problems)}`, problems);
  }
  const event = value as InventoryEvent;
  if (event.type === 'order.returned') {
    // Cross-field rule JSON Schema draft 7 cannot state: a line restocks at most the units it returns.
    const problems = event.lines.flatMap((line, i) =>
      line.restock > line.qty ? [{ path: `/lines/${i}/restock`, message: `must be at most qty (${line.qty}) (got ${line.restock})` }] : [],
    );
    if (problems.length > 0) return fail(`invalid order.returned event: ${summarize(problems)}`, problems);
  }
  // The schema's pattern and format already make this a date every consumer can read; a date that still
  // fails here would crash lag metrics later, so it is refused now rather than trusted.
  if (!Number.isFinite(Date.parse(event.occurredAt))) {
    const problem = { path: '/occurredAt', message: `is not a date-time this hub can read (got ${JSON.stringify(event.occurredAt)})` };
    return fail(`invalid ${event.type} event: ${problem.path} ${problem.message}`, [problem]);
  }
  return { ok: true, event };
}

/**
 * The schemas restrict text fields with patterns on top of length and format limits. A pattern says
 * nothing a person can act on when another rule already failed for the field, and its regex reads
 * poorly: drop it then, and otherwise say in words what it allows.
 */
function problemsOf(errors: readonly ErrorObject[]): Problem[] {
  const otherwiseFailed = new Set(errors.filter((e) => e.keyword !== 'pattern').map((e) => e.instancePath));
  const kept: ErrorObject[] = [];
  const patterns: Problem[] = [];
  for (const error of errors) {
    if (error.keyword !== 'pattern') kept.push(error);
    else if (!otherwiseFailed.has(error.instancePath)) patterns.push({ path: error.instancePath || '/', message: patternMessage(error) });
  }
  return [...problemsFromAjv(kept), ...patterns];
}

function patternMessage(error: ErrorObject): string {
  const got = typeof error.data === 'string' ? ` (got ${JSON.stringify(error.data.length > 60 ? `${error.data.slice(0, 57)}...` : error.data)})` : '';
  if (error.instancePath === '/occurredAt') {
    return `must be an RFC 3339 date-time with a time zone (Z or +hh:mm), in the years 2000 to 2099, seconds 00 to 59${got}`;
  }
  if (error.instancePath === '/reference') return `must not contain control characters other than tab and line breaks${got}`;
  return `must not contain control characters${got}`;
}

/** Dead-letter reasons stay readable: a poison event with 500 bad lines names the first few. */
function summarize(problems: readonly Problem[]): string {
  const shown = problems.slice(0, MAX_REASON_PROBLEMS).map((p) => `${p.path} ${p.message}`);
  if (problems.length > MAX_REASON_PROBLEMS) shown.push(`and ${problems.length - MAX_REASON_PROBLEMS} more`);
  return shown.join('; ');
}

function fail(reason: string, problems: Problem[]): ParsedEvent {
  return { ok: false, reason, problems };
}
