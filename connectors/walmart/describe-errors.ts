import type { WalmartError } from './api.ts';

/** A field of Walmart's error, when it is the short text Walmart sends; a long one is an echo of the request and is left out. */
const short = (value: unknown, max: number): string | undefined => (typeof value === 'string' && value.length <= max ? value : undefined);

/** Walmart's `{ errors: [{ code, field, info, description }] }`, short; any other body is named by its type only. */
export const describeErrors = (body: unknown): string => {
  const errors = (body as { errors?: WalmartError[] } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return body === undefined ? 'no body' : `unexpected ${typeof body === 'string' ? 'text' : 'JSON'} body`;
  const text = errors
    .slice(0, 5)
    .map((e) => `${short(e?.code, 100) ?? 'error'}${short(e?.field, 60) ? ` [${e.field}]` : ''}: ${short(e?.info, 200) ?? short(e?.description, 200) ?? ''}`.trim())
    .join('; ');
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
};
