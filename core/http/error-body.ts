import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../sdk.ts';
import { ErrorCatalogue, ErrorCodes, describeError, errorDefinition, formatErrorMessage, isStockrelayError, type ErrorCode, type Problem } from '../errors.ts';
import { problemsFromAjv } from '../config/ajv-problems.ts';

/**
 * The one body of every HTTP answer that is not a success, on every route: shaped like Fastify's own
 * (`statusCode`, `code`, `error`, `message`), with `code` always from the catalogue (`SR_…`) and, when
 * the request itself was wrong, `problems` naming each field.
 */
export interface ErrorBody {
  /** The HTTP status again, for clients that only keep the body. */
  statusCode: number;
  code: ErrorCode;
  /** The status's reason phrase (`Bad Request`). */
  error: string;
  message: string;
  /** One entry per invalid field: a JSON pointer into the body (`/skus/3`), or a parameter's name (`limit`). */
  problems?: Problem[];
}

/** JSON Schema of {@link ErrorBody}; the route schemas and the OpenAPI document refer to it as `ErrorBody#`. */
export const ERROR_BODY_SCHEMA = {
  $id: 'ErrorBody',
  type: 'object',
  description: 'The body of every answer that is not a success.',
  required: ['statusCode', 'code', 'error', 'message'],
  additionalProperties: false,
  properties: {
    statusCode: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', enum: Object.values(ErrorCatalogue).map((entry) => entry.code), description: 'A code of the error catalogue (README, "Error codes").' },
    error: { type: 'string', description: 'The HTTP reason phrase.' },
    message: { type: 'string' },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        additionalProperties: false,
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

/** The error body of `code`, its status from the catalogue. */
export function errorBody(code: ErrorCode, message: string, problems?: readonly Problem[]): ErrorBody {
  const statusCode = errorDefinition(code)?.status ?? 500;
  const body: ErrorBody = { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
  if (problems && problems.length > 0) body.problems = [...problems];
  return body;
}

/** Sends the error body of `code` (message from its template and `args`) and ends the request. */
export function sendError(reply: FastifyReply, code: ErrorCode, args: readonly (string | number)[] = [], problems?: readonly Problem[]): FastifyReply {
  const body = errorBody(code, formatErrorMessage(code, args), problems);
  return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
}

/** One message naming every problem, for the `message` of an invalid request. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path || '(body)'} ${p.message}`).join('; ');
}

type ValidationContext = 'body' | 'querystring' | 'params' | 'headers';

/**
 * The problems of a request that failed its route schema. Body fields are named by JSON pointer
 * (`/skus/3`); query, path and header parameters by their name (`limit`, `sku/0` for a repeated one).
 */
export function requestProblems(error: FastifyError): Problem[] {
  const context = (error as { validationContext?: ValidationContext }).validationContext ?? 'body';
  const problems = problemsFromAjv(error.validation as Parameters<typeof problemsFromAjv>[0]);
  if (context === 'body') return problems;
  return problems.map((p) => ({ ...p, path: p.path.replace(/^\//, '') }));
}

/** Fastify's own request errors, by the status Fastify gives them, as catalogue codes. */
function fastifyCode(status: number): ErrorCode {
  if (status === 413) return ErrorCodes.BODY_TOO_LARGE;
  if (status === 415) return ErrorCodes.UNSUPPORTED_MEDIA_TYPE;
  if (status === 404) return ErrorCodes.ROUTE_NOT_FOUND;
  if (status === 401) return ErrorCodes.UNAUTHORIZED;
  if (status === 403) return ErrorCodes.FORBIDDEN;
  return ErrorCodes.INVALID_REQUEST;
}

/**
 * What the hub answers for an error a route threw: its catalogue entry when it has a code of the
 * catalogue, Fastify's request errors (schema, body size, content type, JSON syntax) mapped onto the
 * catalogue, and `SR_INTERNAL` with a fixed message for anything else (the log has the details; an
 * answer never carries a stack or a driver's text).
 */
export function errorBodyOf(err: unknown, bodyLimit: number): ErrorBody {
  const fastify = err as Partial<FastifyError> & { problems?: readonly Problem[] };
  if (fastify.validation) {
    const problems = requestProblems(fastify as FastifyError);
    return errorBody(ErrorCodes.INVALID_REQUEST, describeProblems(problems), problems);
  }
  if (isStockrelayError(err)) return errorBody(err.code, err.message, fastify.problems);
  const status = typeof fastify.statusCode === 'number' ? fastify.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = fastifyCode(status);
    if (code === ErrorCodes.BODY_TOO_LARGE) return errorBody(code, formatErrorMessage(code, [bodyLimit]));
    if (code === ErrorCodes.INVALID_REQUEST) return errorBody(code, describeError(err), [{ path: '/', message: describeError(err) }]);
    return errorBody(code, describeError(err));
  }
  return errorBody(ErrorCodes.INTERNAL, formatErrorMessage(ErrorCodes.INTERNAL, []));
}

/**
 * For Fastify's `frameworkErrors` option: errors its router raises before any route or error handler
 * runs (a malformed URL, a path parameter over `maxParamLength`) get the one error body too.
 */
export function answerFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const body = errorBodyOf(err, 0);
  void reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
}

/**
 * Installs the error handler and the not-found handler that make every error answer of `app` (and of
 * every plugin registered in it) the one {@link ErrorBody}. `ERROR_BODY_SCHEMA` is added as a shared
 * schema so routes can declare `{ $ref: 'ErrorBody#' }` for their error answers.
 */
export function installErrorAnswers(app: FastifyInstance, logger: Logger): void {
  app.addSchema(ERROR_BODY_SCHEMA);
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = errorBodyOf(err, app.initialConfig.bodyLimit ?? 1_048_576);
    if (body.statusCode >= 500) logger.error('HTTP request failed', { method: request.method, route: request.routeOptions.url, code: body.code, error: describeError(err) });
    return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, ErrorCodes.ROUTE_NOT_FOUND, [request.method, request.url.split('?', 1)[0] ?? '/']));
}
