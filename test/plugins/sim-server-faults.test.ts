import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { GENERIC_FAULT_KINDS, startSimServer, type SimServer, type SimServerOptions } from '../../connectors/_kit/sim-server.ts';

/** A one-value store behind a tiny API: PUT /value sets it, GET /value reads it. */
async function startValueServer(extra: Partial<SimServerOptions> = {}): Promise<{ server: SimServer; value: () => number | undefined; routeCalls: () => number }> {
  let value: number | undefined;
  let routeCalls = 0;
  const server = await startSimServer({
    name: 'value',
    ...extra,
    route(req) {
      routeCalls += 1;
      if (req.method === 'PUT' && req.path === '/value') {
        const next = (req.json as { value: number }).value;
        if (req.fault?.kind === 'item-locked') return { status: 200, body: { status: 'locked' } };
        value = next;
        return { status: 200, body: { status: 'ok', value }, wrote: true };
      }
      if (req.method === 'GET' && req.path === '/value') return { status: 200, body: { value: value ?? null } };
      return { status: 404, body: { error: 'not_found' } };
    },
  });
  return { server, value: () => value, routeCalls: () => routeCalls };
}

const put = async (url: string, value: number, signal?: AbortSignal): Promise<{ status: number; body: unknown }> => {
  const res = await request(`${url}/value`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sim-secret-token' },
    body: JSON.stringify({ value }),
    signal,
  });
  return { status: res.statusCode, body: await res.body.json() };
};
const get = async (url: string, signal?: AbortSignal): Promise<{ status: number; body: unknown }> => {
  const res = await request(`${url}/value`, { signal });
  return { status: res.statusCode, body: await res.body.json() };
};
const waitFor = async (check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('simulator faults every simulator gets from the kit', () => {
  const open: SimServer[] = [];
  const start = async (extra: Partial<SimServerOptions> = {}) => {
    const started = await startValueServer(extra);
    open.push(started.server);
    return started;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((server) => server.close()));
  });

  it('server-error answers every request with a 5xx and never reaches the route', async () => {
    const { server, value, routeCalls } = await start();
    server.setFault({ kind: 'server-error' });
    expect((await put(server.url, 3)).status).toBe(500);
    server.setFault({ kind: 'server-error', status: 502 });
    expect((await get(server.url)).status).toBe(502);
    expect(routeCalls()).toBe(0);
    expect(value()).toBeUndefined();
    server.setFault(null);
    expect((await put(server.url, 3)).status).toBe(200);
  });

  it('hang never answers while set; a client that gave up gets nothing applied, one still waiting is served once cleared', async () => {
    const { server, value } = await start();
    server.setFault({ kind: 'hang' });
    const givenUp = AbortSignal.timeout(100);
    await expect(put(server.url, 1, givenUp)).rejects.toThrow();
    const waiting = put(server.url, 2);
    await waitFor(() => server.counters.hung === 2);
    let settled = false;
    void waiting.finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    server.setFault(null);
    expect(await waiting).toEqual({ status: 200, body: { status: 'ok', value: 2 } });
    expect(value()).toBe(2);
    expect(server.counters.abandoned).toBe(1);
  });

  it('hang releases its requests when the server closes', async () => {
    const { server } = await start();
    server.setFault({ kind: 'hang' });
    const pending = put(server.url, 1).then(
      () => 'answered',
      () => 'cut',
    );
    await waitFor(() => server.counters.hung === 1);
    await server.close();
    expect(await pending).toBe('cut');
  });

  it('hold-writes applies a write the client gave up on, later; reads are not held', async () => {
    const { server, value } = await start();
    server.setFault({ kind: 'hold-writes', ms: 400 });
    await expect(put(server.url, 7, AbortSignal.timeout(50))).rejects.toThrow();
    expect(value()).toBeUndefined();
    // A read during the hold answers at once and still sees the old value.
    expect((await get(server.url, AbortSignal.timeout(2000))).body).toEqual({ value: null });
    await waitFor(() => value() === 7);
    expect(server.counters.held).toBe(1);
  });

  it('hold-writes answers a client that waits, after applying', async () => {
    const { server, value } = await start();
    server.setFault({ kind: 'hold-writes', ms: 100 });
    const started = Date.now();
    expect(await put(server.url, 4)).toEqual({ status: 200, body: { status: 'ok', value: 4 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(value()).toBe(4);
  });

  it('hold-writes follows the simulator’s own idea of a write', async () => {
    const { server } = await start({ isWrite: (req) => req.method === 'PUT' && (req.json as { value?: number }).value === 1 });
    server.setFault({ kind: 'hold-writes', ms: 60_000 });
    expect((await put(server.url, 2, AbortSignal.timeout(2000))).status).toBe(200);
    await expect(put(server.url, 1, AbortSignal.timeout(100))).rejects.toThrow();
  });

  it('echo-errors fails every request with a body repeating method, path, headers and body', async () => {
    const { server, value } = await start();
    server.setFault({ kind: 'echo-errors' });
    const answer = await put(server.url, 9);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    const echoed = (answer.body as { request: { method: string; path: string; headers: Record<string, string>; body: string } }).request;
    expect(echoed.method).toBe('PUT');
    expect(echoed.path).toBe('/value');
    expect(echoed.headers.authorization).toBe('Bearer sim-secret-token');
    expect(echoed.body).toBe(JSON.stringify({ value: 9 }));
    expect(value()).toBeUndefined();
  });

  it('echo-errors takes the channel’s own error shape when the simulator gives one', async () => {
    const { server } = await start({ echoErrorResponse: (req) => ({ status: 422, body: { errors: [{ detail: `${req.method} ${req.path}`, received: req.headers.authorization }] } }) });
    server.setFault({ kind: 'echo-errors' });
    expect(await put(server.url, 9)).toEqual({ status: 422, body: { errors: [{ detail: 'PUT /value', received: 'Bearer sim-secret-token' }] } });
  });

  it('refuses, naming it, a per-item fault kind the simulator does not implement', async () => {
    const { server } = await start();
    expect(server.faults).toEqual(GENERIC_FAULT_KINDS);
    expect(() => server.setFault({ kind: 'item-locked', skus: ['A'] })).toThrow(/does not implement the "item-locked" fault/);
    expect(() => server.setFault({ kind: 'item-unknown', skus: ['A'] })).toThrow(/"item-unknown"/);
    expect(() => server.setFault({ kind: 'flood' } as never)).toThrow(/"flood"/);
    expect(server.fault()).toBeNull();
  });

  it('passes a declared per-item fault to the route', async () => {
    const { server, value } = await start({ itemFaults: ['item-locked'] });
    expect(server.faults).toContain('item-locked');
    server.setFault({ kind: 'item-locked', skus: ['A'] });
    expect((await put(server.url, 5)).body).toEqual({ status: 'locked' });
    expect(value()).toBeUndefined();
    expect(() => server.setFault({ kind: 'item-unknown', skus: ['A'] })).toThrow(/"item-unknown"/);
  });

  it('refuses fault parameters out of range, naming the field', async () => {
    const { server } = await start();
    expect(() => server.setFault({ kind: 'hold-writes', ms: -1 })).toThrow(/ms/);
    expect(() => server.setFault({ kind: 'server-error', status: 404 })).toThrow(/status/);
    expect(() => server.setFault({ kind: 'throttle', retryAfterMs: Number.NaN })).toThrow(/retryAfterMs/);
  });
});
