import type { FastifyInstance } from 'fastify';
import type { Logger } from '../sdk.ts';
import { createAjv } from '../config/create-ajv.ts';
import type { Problem } from '../errors.ts';
import { problemsFromAjv } from '../config/ajv-problems.ts';
import { installErrorAnswers } from './error-body.ts';

/**
 * Route input is validated as config and events are: ajv with every error at once and the standard
 * formats (`createAjv`), and `additionalProperties: false` where a route says so, never stripped
 * silently. Query strings and path parameters arrive as text, so they are coerced to their schema's type
 * (`?limit=5` is 5, `?sku=a` is `["a"]`); JSON bodies are not (a SKU sent as 7 is an error, not "7").
 * A request that breaks its schema reaches the error handler, which answers `SR_INVALID_REQUEST` naming
 * each field (`core/http/error-body.ts`).
 */
/**
 * The conventions every Fastify app serving the hub's routes follows: the one error body on every error
 * answer (`installErrorAnswers`) and route validation as above. The hub's server installs them before any
 * route; a test that mounts a feature's routes on an app of its own installs them too.
 */
export function installHttpConventions(app: FastifyInstance, logger: Logger): void {
  installErrorAnswers(app, logger);
  installRouteValidation(app);
}

/** The outcome of checking a body against a route's body schema outside HTTP. */
export type BodyCheck<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/**
 * A check of a JSON body against a route's body schema, for the same request arriving another way (the
 * NATS inventory query): the same ajv settings and the same problems as the HTTP route gives.
 */
export function bodyCheck<T>(schema: Record<string, unknown>): (body: unknown) => BodyCheck<T> {
  const validate = createAjv({ useDefaults: true, strict: true }).compile(schema);
  return (body) => (validate(body) ? { ok: true, value: body as T } : { ok: false, problems: problemsFromAjv(validate.errors) });
}

export function installRouteValidation(app: FastifyInstance): void {
  const forBody = createAjv({ useDefaults: true, strict: true });
  const forText = createAjv({ useDefaults: true, strict: true, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? forBody : forText).compile(schema));
  // Answer schemas document the API (and /openapi.json); they never filter what a route answers.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}
