import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, principalOf, requireScope, type ApiToken } from '../../core/http/auth.ts';

const READ = 'read-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const tokens: ApiToken[] = [
  { name: 'storefront', token: READ, scope: 'read' },
  { name: 'ops', token: ADMIN, scope: 'admin' },
];

describe('bearer tokens guard routes by scope', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = Fastify();
    app.get('/read', { preHandler: requireScope(tokens, 'read') }, async (req) => ({ who: principalOf(req)?.name }));
    app.post('/admin', { preHandler: requireScope(tokens, 'admin') }, async (req) => ({ who: principalOf(req)?.name }));
    app.get('/closed', { preHandler: requireScope([], 'read') }, async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 401 with a Bearer challenge when no token is sent', async () => {
    const res = await app.inject({ method: 'GET', url: '/read' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'SR_UNAUTHORIZED' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('answers 401 for a token nobody configured, and for one that differs only in its last character', async () => {
    for (const token of ['nope-nope-nope-nope', `${READ.slice(0, -1)}X`, `${READ}x`]) {
      const res = await app.inject({ method: 'GET', url: '/read', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'SR_UNAUTHORIZED' });
      expect(res.headers['www-authenticate']).toContain('invalid_token');
    }
  });

  it('answers 401 for credentials that are not a bearer token', async () => {
    const res = await app.inject({ method: 'GET', url: '/read', headers: { authorization: `Basic ${Buffer.from(`u:${READ}`).toString('base64')}` } });
    expect(res.statusCode).toBe(401);
  });

  it('lets a read token read and tells the route who it is', async () => {
    const res = await app.inject({ method: 'GET', url: '/read', headers: { authorization: `Bearer ${READ}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ who: 'storefront' });
  });

  it('answers 403 to a read token on an admin route', async () => {
    const res = await app.inject({ method: 'POST', url: '/admin', headers: { authorization: `Bearer ${READ}` } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'SR_FORBIDDEN' });
    expect(res.headers['www-authenticate']).toContain('insufficient_scope');
  });

  it('lets an admin token use admin and read routes', async () => {
    const admin = await app.inject({ method: 'POST', url: '/admin', headers: { authorization: `Bearer ${ADMIN}` } });
    const read = await app.inject({ method: 'GET', url: '/read', headers: { authorization: `bearer ${ADMIN}` } });
    expect(admin.statusCode).toBe(200);
    expect(admin.json()).toEqual({ who: 'ops' });
    expect(read.statusCode).toBe(200);
  });

  it('refuses everyone when no tokens are configured', async () => {
    const res = await app.inject({ method: 'GET', url: '/closed', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.statusCode).toBe(401);
  });

  it('reports the same outcomes without HTTP, for the bus', () => {
    expect(authorize(tokens, `Bearer ${READ}`, 'read')).toMatchObject({ ok: true, principal: { name: 'storefront', scope: 'read' } });
    expect(authorize(tokens, `Bearer ${READ}`, 'admin')).toMatchObject({ ok: false, status: 403 });
    expect(authorize(tokens, undefined, 'read')).toMatchObject({ ok: false, status: 401, reason: 'missing_token' });
  });
});
