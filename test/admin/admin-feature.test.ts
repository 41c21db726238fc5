import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { adminFeature } from '../../core/features/admin/admin-feature.ts';
import type { DeadLetterPage, ListDeadLettersOptions } from '../../core/features/admin/dead-letters.ts';
import type { WhyReport } from '../../core/features/admin/why.ts';
import { installHttpConventions } from '../../core/http/route-validation.ts';
import { ReplayRefusedError } from '../../core/internal.ts';
import { plainHubContext, type PlainHubContextOptions } from '../support/plain-hub-context.ts';

const READ = 'read-token-for-admin-feature';
const ADMIN = 'admin-token-for-admin-feature';
const TOKENS = { http: { tokens: [{ name: 'agent', token: READ, scope: 'read' }, { name: 'ops', token: ADMIN, scope: 'admin' }] } };
const asAdmin = { authorization: `Bearer ${ADMIN}` };
const asReader = { authorization: `Bearer ${READ}` };

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function adminApp(options: Omit<PlainHubContextOptions, 'config'>): Promise<FastifyInstance> {
  const ctx = plainHubContext({ ...options, config: TOKENS });
  const feature = adminFeature();
  await feature.start?.(ctx);
  const app = Fastify();
  installHttpConventions(app, ctx.logger);
  await feature.routes!(app, ctx);
  apps.push(app);
  return app;
}

describe('the admin feature\'s dead-letter routes, through the context\'s dead-letter desk', () => {
  it('passes the filters of a list request to the desk', async () => {
    const asked: ListDeadLettersOptions[] = [];
    const app = await adminApp({
      deadLetters: {
        list: async (options) => {
          asked.push(options ?? {});
          return { letters: [], next: null, total: 0 } satisfies DeadLetterPage;
        },
      },
    });
    const res = await app.inject({ method: 'GET', url: '/v1/dead-letters?kind=push&channel=web&after=4&limit=10', headers: asAdmin });
    expect(res.statusCode).toBe(200);
    expect(asked).toEqual([{ kind: 'push', channel: 'web', after: 4, limit: 10 }]);
  });

  it('names the field of a bad filter and asks the desk nothing', async () => {
    const app = await adminApp({});
    const kind = await app.inject({ method: 'GET', url: '/v1/dead-letters?kind=other', headers: asAdmin });
    expect(kind.statusCode).toBe(400);
    expect(kind.json()).toMatchObject({ code: 'SR_INVALID_REQUEST', problems: [{ path: 'kind' }] });
    const limit = await app.inject({ method: 'GET', url: '/v1/dead-letters?limit=0', headers: asAdmin });
    expect(limit.statusCode).toBe(400);
    expect(limit.json()).toMatchObject({ code: 'SR_INVALID_REQUEST', problems: [{ path: 'limit' }] });
  });

  it('answers 404 for a letter the desk does not have, and 409 with the reason for one it cannot replay', async () => {
    const app = await adminApp({
      deadLetters: {
        get: async () => undefined,
        replay: async () => {
          throw new ReplayRefusedError('dead letter #7 is a push to "web": only the running hub can push it again');
        },
      },
    });
    expect((await app.inject({ method: 'GET', url: '/v1/dead-letters/7', headers: asAdmin })).statusCode).toBe(404);
    const replay = await app.inject({ method: 'POST', url: '/v1/dead-letters/7/replay', headers: asAdmin });
    expect(replay.statusCode).toBe(409);
    expect(replay.json()).toMatchObject({ code: 'SR_DEAD_LETTER_NOT_REPLAYABLE', message: expect.stringContaining('#7') });
  });

  it('needs an admin token: a read token gets 403', async () => {
    const app = await adminApp({});
    expect((await app.inject({ method: 'GET', url: '/v1/dead-letters', headers: asReader })).statusCode).toBe(403);
    expect((await app.inject({ method: 'DELETE', url: '/v1/dead-letters/1' })).statusCode).toBe(401);
  });
});

describe('the admin feature\'s why route, through the context\'s ledger reads', () => {
  it('explains a channel of the config with the limit asked for', async () => {
    const asked: unknown[] = [];
    const app = await adminApp({
      channels: [{ id: 'web', rules: { reserve: 1 } }],
      ledger: {
        explain: async (channel, sku, options) => {
          asked.push({ channel: channel.id, reserve: channel.rules.reserve, sku, options });
          return { channelId: channel.id, sku, state: 'in-sync' } as WhyReport;
        },
      },
    });
    const res = await app.inject({ method: 'GET', url: '/v1/why/web/TEE-M?limit=5', headers: asReader });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ channelId: 'web', sku: 'TEE-M', state: 'in-sync' });
    expect(asked).toEqual([{ channel: 'web', reserve: 1, sku: 'TEE-M', options: { limit: 5 } }]);
  });

  it('answers 404 for a channel the config does not have and for a SKU nobody knows, 400 for a bad limit', async () => {
    const app = await adminApp({ channels: [{ id: 'web' }] });
    const channel = await app.inject({ method: 'GET', url: '/v1/why/nope/TEE-M', headers: asReader });
    expect(channel.statusCode).toBe(404);
    expect(channel.json()).toMatchObject({ code: 'SR_CHANNEL_NOT_FOUND', message: expect.stringContaining('nope') });
    expect((await app.inject({ method: 'GET', url: '/v1/why/web/UNKNOWN', headers: asReader })).statusCode).toBe(404);
    const limit = await app.inject({ method: 'GET', url: '/v1/why/web/TEE-M?limit=-1', headers: asReader });
    expect(limit.statusCode).toBe(400);
    expect(limit.json()).toMatchObject({ code: 'SR_INVALID_REQUEST', problems: [{ path: 'limit' }] });
  });
});
