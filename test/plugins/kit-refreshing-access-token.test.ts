import { describe, expect, it } from 'vitest';
import { createRefreshingAccessToken, refreshTokenFingerprint, type RefreshGrantResult } from '../../connectors/_kit/refreshing-access-token.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { RejectedError, type ConnectorStateStore } from '../../core/sdk.ts';

/** A token endpoint that rotates (or keeps) refresh tokens and retires the presented one, like Etsy's. */
function fakeIssuer(opts: { rotate: boolean; lifetimeMs?: number }) {
  let n = 0;
  const valid = new Set<string>(['rt-configured']);
  const presented: string[] = [];
  let gate: Promise<void> | undefined;
  return {
    presented,
    valid,
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
    async refresh(refreshToken: string, signal: AbortSignal): Promise<RefreshGrantResult> {
      presented.push(refreshToken);
      if (gate) await gate;
      signal.throwIfAborted();
      if (!valid.has(refreshToken)) throw new RejectedError('invalid_grant');
      n += 1;
      if (!opts.rotate) return { accessToken: `at-${n}`, expiresInMs: opts.lifetimeMs ?? 7_200_000 };
      valid.delete(refreshToken);
      const next = `rt-${n}`;
      valid.add(next);
      return { accessToken: `at-${n}`, expiresInMs: opts.lifetimeMs ?? 3_600_000, refreshToken: next, refreshExpiresInMs: 90 * 86_400_000 };
    },
  };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('createRefreshingAccessToken', () => {
  it('answers the cached access token until the refresh margin, then refreshes before expiry', async () => {
    const issuer = fakeIssuer({ rotate: false, lifetimeMs: 600_000 });
    const c = clock();
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state: memoryConnectorState(), registerSecret: () => {}, refreshMarginMs: 60_000, now: c.now });
    expect(await tokens.get()).toBe('at-1');
    c.advance(539_000);
    expect(await tokens.get()).toBe('at-1');
    c.advance(2_000); // 59 s left: inside the margin, so refreshed although still valid
    expect(await tokens.get()).toBe('at-2');
    expect(issuer.presented).toEqual(['rt-configured', 'rt-configured']);
  });

  it('keeps at least half the life of a token shorter than the margin', async () => {
    const issuer = fakeIssuer({ rotate: false, lifetimeMs: 30_000 });
    const c = clock();
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state: memoryConnectorState(), registerSecret: () => {}, now: c.now });
    expect(await tokens.get()).toBe('at-1');
    c.advance(14_000);
    expect(await tokens.get()).toBe('at-1');
    c.advance(2_000);
    expect(await tokens.get()).toBe('at-2');
  });

  it('shares one refresh among concurrent callers', async () => {
    const issuer = fakeIssuer({ rotate: true });
    const release = issuer.hold();
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state: memoryConnectorState(), registerSecret: () => {} });
    const all = Promise.all(Array.from({ length: 20 }, () => tokens.get()));
    await new Promise((r) => setTimeout(r, 10));
    release();
    expect(new Set(await all)).toEqual(new Set(['at-1']));
    expect(issuer.presented).toHaveLength(1);
  });

  it('refreshes once after invalidate, however many requests saw the expired token', async () => {
    const issuer = fakeIssuer({ rotate: true });
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state: memoryConnectorState(), registerSecret: () => {} });
    const first = await tokens.get();
    for (let i = 0; i < 5; i++) tokens.invalidate(first);
    const after = await Promise.all([tokens.get(), tokens.get(), tokens.get()]);
    expect(new Set(after)).toEqual(new Set(['at-2']));
    tokens.invalidate(first); // a late failure with the old token must not throw the new one away
    expect(await tokens.get()).toBe('at-2');
    expect(issuer.presented).toEqual(['rt-configured', 'rt-1']);
  });

  it('lets a caller whose signal aborts leave without cancelling the refresh the others wait for', async () => {
    const issuer = fakeIssuer({ rotate: false });
    const release = issuer.hold();
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state: memoryConnectorState(), registerSecret: () => {} });
    const ac = new AbortController();
    const leaving = tokens.get(ac.signal);
    const staying = tokens.get();
    ac.abort(new Error('caller gave up'));
    await expect(leaving).rejects.toThrow('caller gave up');
    release();
    expect(await staying).toBe('at-1');
  });

  it('gives up a hanging refresh after refreshTimeoutMs, and the next get tries again', async () => {
    let calls = 0;
    const tokens = createRefreshingAccessToken({
      refresh: (_rt, signal) => {
        calls += 1;
        if (calls === 1) return new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
        return Promise.resolve({ accessToken: 'at-late', expiresInMs: 60_000 });
      },
      initialRefreshToken: 'rt-configured',
      state: memoryConnectorState(),
      registerSecret: () => {},
      refreshTimeoutMs: 50,
    });
    await expect(tokens.get()).rejects.toThrow();
    expect(await tokens.get()).toBe('at-late');
  });

  it('uses the rotated refresh token stored by an earlier process after a restart', async () => {
    const issuer = fakeIssuer({ rotate: true });
    const state = memoryConnectorState();
    const before = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state, registerSecret: () => {} });
    await before.get();
    before.invalidate('at-1');
    await before.get();
    // The issuer retired rt-configured and rt-1; a new process with the same config must continue from rt-2.
    const after = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state, registerSecret: () => {} });
    expect(await after.get()).toBe('at-3');
    expect(issuer.presented).toEqual(['rt-configured', 'rt-1', 'rt-2']);
  });

  it('stores only a fingerprint of the configured refresh token, never the token', async () => {
    const issuer = fakeIssuer({ rotate: true });
    const state = memoryConnectorState();
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state, registerSecret: () => {}, stateKey: 'etsy.refresh' });
    await tokens.get();
    const stored = JSON.stringify(state.entries());
    expect(stored).not.toContain('rt-configured');
    expect(stored).toContain(refreshTokenFingerprint('rt-configured'));
    expect(JSON.parse(state.entries()['etsy.refresh']!)).toMatchObject({ refreshToken: 'rt-1' });
  });

  it('prefers a refresh token changed in the config over the chain stored from the old one', async () => {
    const issuer = fakeIssuer({ rotate: true });
    const state = memoryConnectorState();
    await createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state, registerSecret: () => {} }).get();
    // The seller authorised again and put a fresh token in the config.
    issuer.valid.add('rt-reauthorised');
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-reauthorised', state, registerSecret: () => {} });
    expect(await tokens.get()).toBe('at-2');
    expect(issuer.presented.at(-1)).toBe('rt-reauthorised');
    expect(JSON.parse(state.entries()['oauth.refresh-token']!)).toMatchObject({ configured: refreshTokenFingerprint('rt-reauthorised'), refreshToken: 'rt-2' });
  });

  it('picks up a rotation another hub stored since this one last refreshed', async () => {
    const issuer = fakeIssuer({ rotate: true });
    const state = memoryConnectorState();
    const a = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state, registerSecret: () => {} });
    const b = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state, registerSecret: () => {} });
    await a.get();
    await b.get();
    a.invalidate('at-1');
    expect(await a.get()).toBe('at-3');
    expect(issuer.presented).toEqual(['rt-configured', 'rt-1', 'rt-2']);
  });

  it('registers every token it sees as a secret: configured, rotated and access tokens', async () => {
    const issuer = fakeIssuer({ rotate: true });
    const secrets = new Set<string>();
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state: memoryConnectorState(), registerSecret: (v) => secrets.add(v) });
    await tokens.get();
    tokens.invalidate('at-1');
    await tokens.get();
    expect(secrets).toEqual(new Set(['rt-configured', 'rt-1', 'at-1', 'rt-2', 'at-2']));
  });

  it('registers a refresh token read back from the state store as a secret', async () => {
    const issuer = fakeIssuer({ rotate: true });
    issuer.valid.add('rt-stored');
    const state = memoryConnectorState({ 'oauth.refresh-token': JSON.stringify({ v: 1, configured: refreshTokenFingerprint('rt-configured'), refreshToken: 'rt-stored' }) });
    const secrets = new Set<string>();
    await createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state, registerSecret: (v) => secrets.add(v) }).get();
    expect(issuer.presented).toEqual(['rt-stored']);
    expect(secrets.has('rt-stored')).toBe(true);
  });

  it('keeps a rotated token in memory and stores it later when the state store refuses the write', async () => {
    const issuer = fakeIssuer({ rotate: true });
    const inner = memoryConnectorState();
    let down = true;
    const state: ConnectorStateStore = {
      get: (k) => inner.get(k),
      set: (k, v) => (down ? Promise.reject(new Error('database unavailable')) : inner.set(k, v)),
      delete: (k) => inner.delete(k),
    };
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state, registerSecret: () => {} });
    expect(await tokens.get()).toBe('at-1');
    tokens.invalidate('at-1');
    expect(await tokens.get()).toBe('at-2'); // presented rt-1 from memory, not the retired configured token
    expect(issuer.presented).toEqual(['rt-configured', 'rt-1']);
    down = false;
    await tokens.get();
    await new Promise((r) => setTimeout(r, 0));
    expect(JSON.parse(inner.entries()['oauth.refresh-token']!)).toMatchObject({ refreshToken: 'rt-2' });
  });

  it('passes a refused refresh token on as the refresh function threw it', async () => {
    const issuer = fakeIssuer({ rotate: true });
    issuer.valid.clear();
    const tokens = createRefreshingAccessToken({ refresh: issuer.refresh, initialRefreshToken: 'rt-configured', state: memoryConnectorState(), registerSecret: () => {} });
    await expect(tokens.get()).rejects.toMatchObject({ code: 'SR_CONNECTOR_REJECTED' });
  });

  it('refuses an empty configured refresh token at creation', () => {
    expect(() => createRefreshingAccessToken({ refresh: async () => ({ accessToken: 'x', expiresInMs: 1 }), initialRefreshToken: '', state: memoryConnectorState(), registerSecret: () => {} })).toThrow(/initialRefreshToken/);
  });
});
