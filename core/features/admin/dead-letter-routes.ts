import type { FastifyInstance, FastifyReply } from 'fastify';
import { ErrorCodes } from '../../errors.ts';
import { sendError } from '../../http/error-body.ts';
import { requireScope } from '../../http/auth.ts';
import type { HubContext } from '../hub-context.ts';
import { ROUTE_SCHEMAS } from '../../http/route-schemas.ts';
import type { ListDeadLettersOptions } from './dead-letters.ts';

interface SeqParams {
  seq: string;
}

/**
 * The admin API over the dead-letter stream (admin scope):
 * `GET /v1/dead-letters?kind=event|push&channel=&after=&limit=`, `GET /v1/dead-letters/:seq`,
 * `POST /v1/dead-letters/:seq/replay` (optional body `{ "payload": <corrected event> }`),
 * `DELETE /v1/dead-letters/:seq`. Input is checked by the route schemas (`ROUTE_SCHEMAS`) after the token.
 */
export function deadLetterRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'config' | 'deadLetters'>): void {
  const onRequest = requireScope(ctx.config.http.tokens, 'admin');
  const letters = ctx.deadLetters;

  app.get<{ Querystring: ListDeadLettersOptions }>('/v1/dead-letters', { onRequest, schema: ROUTE_SCHEMAS.deadLetterList }, async (req) => {
    const { kind, channel, after, limit } = req.query;
    const options: ListDeadLettersOptions = {};
    if (kind !== undefined) options.kind = kind;
    if (channel) options.channel = channel;
    if (after !== undefined) options.after = after;
    if (limit !== undefined) options.limit = limit;
    return letters.list(options);
  });

  app.get<{ Params: SeqParams }>('/v1/dead-letters/:seq', { onRequest, schema: ROUTE_SCHEMAS.deadLetterShow }, async (req, reply) => {
    const seq = parseSeq(req.params.seq);
    const letter = seq === undefined ? undefined : await letters.get(seq);
    return letter ?? notFound(reply, req.params.seq);
  });

  const replay = { onRequest, schema: ROUTE_SCHEMAS.deadLetterReplay };
  app.post<{ Params: SeqParams; Body: { payload?: unknown } | null }>('/v1/dead-letters/:seq/replay', replay, async (req, reply) => {
    const seq = parseSeq(req.params.seq);
    const body = req.body;
    // A letter that cannot be replayed throws SR_DEAD_LETTER_NOT_REPLAYABLE, answered 409 by the error handler.
    const result = seq === undefined ? undefined : await letters.replay(seq, body?.payload !== undefined ? { payload: body.payload } : {});
    return result ?? notFound(reply, req.params.seq);
  });

  app.delete<{ Params: SeqParams }>('/v1/dead-letters/:seq', { onRequest, schema: ROUTE_SCHEMAS.deadLetterDiscard }, async (req, reply) => {
    const seq = parseSeq(req.params.seq);
    if (seq === undefined || !(await letters.discard(seq))) return notFound(reply, req.params.seq);
    return { seq, discarded: true };
  });
}

function parseSeq(raw: string): number | undefined {
  const seq = Number(raw);
  return /^\d+$/.test(raw) && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

function notFound(reply: FastifyReply, seq: string): FastifyReply {
  return sendError(reply, ErrorCodes.DEAD_LETTER_NOT_FOUND, [seq]);
}

