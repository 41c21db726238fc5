import type { FastifyInstance, FastifyReply } from 'fastify';
import { ErrorCodes } from '../errors.ts';
import { sendError } from '../http/error-body.ts';
import { requireScope } from '../http/auth.ts';
import type { HubContext } from '../hub-context.ts';
import type { DeadLetterKind, ListDeadLettersOptions } from './dead-letters.ts';

interface SeqParams {
  seq: string;
}

/**
 * The admin API over the dead-letter stream (admin scope):
 * `GET /v1/dead-letters?kind=event|push&channel=&after=&limit=`, `GET /v1/dead-letters/:seq`,
 * `POST /v1/dead-letters/:seq/replay` (optional body `{ "payload": <corrected event> }`),
 * `DELETE /v1/dead-letters/:seq`.
 */
export function deadLetterRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'config' | 'deadLetters'>): void {
  const admin = { preHandler: requireScope(ctx.config.http.tokens, 'admin') };
  const letters = ctx.deadLetters;

  app.get('/v1/dead-letters', admin, async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    const options: ListDeadLettersOptions = {};
    if (query.kind !== undefined) {
      if (query.kind !== 'event' && query.kind !== 'push') return badRequest(reply, 'kind', 'must be "event" or "push"');
      options.kind = query.kind as DeadLetterKind;
    }
    if (query.channel) options.channel = query.channel;
    for (const name of ['after', 'limit'] as const) {
      const raw = query[name];
      if (raw === undefined) continue;
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < (name === 'limit' ? 1 : 0)) return badRequest(reply, name, `must be a whole number${name === 'limit' ? ' >= 1' : ' >= 0'}`);
      options[name] = value;
    }
    return letters.list(options);
  });

  app.get<{ Params: SeqParams }>('/v1/dead-letters/:seq', admin, async (req, reply) => {
    const seq = parseSeq(req.params.seq);
    const letter = seq === undefined ? undefined : await letters.get(seq);
    return letter ?? notFound(reply, req.params.seq);
  });

  app.post<{ Params: SeqParams }>('/v1/dead-letters/:seq/replay', admin, async (req, reply) => {
    const seq = parseSeq(req.params.seq);
    const body = req.body as { payload?: unknown } | undefined | null;
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) return badRequest(reply, '/', 'the body, when sent, is { "payload": <corrected event> }');
    // A letter that cannot be replayed throws SR_DEAD_LETTER_NOT_REPLAYABLE, answered 409 by the error handler.
    const result = seq === undefined ? undefined : await letters.replay(seq, body?.payload !== undefined ? { payload: body.payload } : {});
    return result ?? notFound(reply, req.params.seq);
  });

  app.delete<{ Params: SeqParams }>('/v1/dead-letters/:seq', admin, async (req, reply) => {
    const seq = parseSeq(req.params.seq);
    if (seq === undefined || !(await letters.discard(seq))) return notFound(reply, req.params.seq);
    return { seq, discarded: true };
  });
}

function parseSeq(raw: string): number | undefined {
  const seq = Number(raw);
  return /^\d+$/.test(raw) && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

function badRequest(reply: FastifyReply, path: string, message: string): FastifyReply {
  return sendError(reply, ErrorCodes.INVALID_REQUEST, [`${path} ${message}`], [{ path, message }]);
}

function notFound(reply: FastifyReply, seq: string): FastifyReply {
  return sendError(reply, ErrorCodes.DEAD_LETTER_NOT_FOUND, [seq]);
}

