import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const ADMIN = 'admin-token-0123456789';
const READ = 'read-token-0123456789ab';
const now = () => new Date().toISOString();

/** A test hub config with an admin and a read token, also written to a file for the CLI. */
async function withTokens(setup: TestHubSetup): Promise<{ setup: TestHubSetup; file: string; dir: string }> {
  const config = { ...setup.config, http: { host: '127.0.0.1', port: 0, tokens: [{ token: ADMIN, scope: 'admin' }, { token: READ, scope: 'read' }] } };
  const result = validateConfigObject(config);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const dir = await mkdtemp(join(tmpdir(), 'sr-admin-'));
  const file = join(dir, 'stockrelay.json');
  await writeFile(file, JSON.stringify(config));
  return { setup: { ...setup, loaded: result.loaded }, file, dir };
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function api(hub: Hub, method: 'GET' | 'POST' | 'DELETE', path: string, token: string, body?: unknown) {
  const res = await request(`${hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

describe('dead letters: list, show, replay, discard', () => {
  let setup: TestHubSetup | undefined;
  let hub: Hub | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await hub?.stop();
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
    hub = undefined;
    setup = undefined;
    dir = undefined;
  });

  it('a dead-lettered push replayed after the channel recovers pushes the ledger\'s current quantity and leaves the stream', async () => {
    // Reconcile far away: only the replay can bring the channel back within the test.
    const base = await setupTestHub({ channels: [{ id: 'down' }, { id: 'up' }], dispatch: { maxAttempts: 2, backoffBaseMs: 20, backoffMaxMs: 40, reconcileIntervalMs: 600_000 } });
    const prepared = await withTokens(base);
    setup = prepared.setup;
    dir = prepared.dir;
    hub = await startHub(setup);
    const down = setup.simulators.get('down')!;
    const letters = hub.deadLetters;
    down.setFault({ kind: 'down' });
    await hub.publish({ id: 'rp:1', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'RP-1', quantity: 5 }] });
    await waitFor('the first dead letter', async () => (await letters.depth()).pushes.down === 1, 15_000);
    await hub.publish({ id: 'rp:2', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'RP-1', quantity: 9 }] });
    await waitFor('the second dead letter', async () => (await letters.depth()).pushes.down === 2, 15_000);
    expect(setup.simulators.get('up')!.shown('RP-1')).toBe(9);

    const page = await api(hub, 'GET', '/v1/dead-letters?kind=push&channel=down', ADMIN);
    expect(page.status).toBe(200);
    const listed = page.json.letters as Array<{ seq: number; sku: string; letter: { quantity: number } }>;
    expect(listed.map((l) => [l.sku, l.letter.quantity])).toEqual([['RP-1', 5], ['RP-1', 9]]);
    expect(page.json.total).toBe(2);

    down.setFault(null);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(down.shown('RP-1')).toBeUndefined();

    const oldest = listed[0]!.seq;
    const replayed = await api(hub, 'POST', `/v1/dead-letters/${oldest}/replay`, ADMIN);
    expect(replayed).toEqual({ status: 200, json: { seq: oldest, kind: 'push', outcome: 'requeued', channelId: 'down', sku: 'RP-1' } });
    await waitFor('the recovered channel to converge', () => down.shown('RP-1') === 9, 10_000);
    // The letter said 5; the channel was given the ledger's current 9 and nothing else.
    expect(down.writes('RP-1').map(([, quantity]) => quantity)).toEqual([9]);
    expect((await api(hub, 'GET', `/v1/dead-letters/${oldest}`, ADMIN)).status).toBe(404);

    // The other letter is now moot: its replay finds the channel level and only deletes it.
    const rest = await letters.list({ kind: 'push' });
    expect(rest.letters).toHaveLength(1);
    const second = await letters.replay(rest.letters[0]!.seq);
    expect(second).toMatchObject({ kind: 'push', outcome: 'in-sync' });
    expect(await letters.depth()).toEqual({ events: 0, pushes: {} });
    const [state] = await hub.ledger.getChannelStates('down', ['RP-1']);
    expect(state).toMatchObject({ pushedQuantity: 9, deadLetteredAt: null });
  });

  it('the admin routes refuse a read token with 403 and no token with 401', async () => {
    const prepared = await withTokens(await setupTestHub({ channels: [{ id: 'web' }] }));
    setup = prepared.setup;
    dir = prepared.dir;
    hub = await startHub(setup);
    expect((await api(hub, 'GET', '/v1/dead-letters', READ)).status).toBe(403);
    expect((await api(hub, 'DELETE', '/v1/dead-letters/1', READ)).status).toBe(403);
    const anonymous = await request(`${hub.url}/v1/dead-letters`);
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();
    expect((await api(hub, 'GET', '/v1/dead-letters', ADMIN)).json).toEqual({ letters: [], next: null, total: 0 });
  });

  it('a replayed invalid event is dead-lettered again with its reason; a corrected one is applied exactly once', async () => {
    const prepared = await withTokens(await setupTestHub({ channels: [{ id: 'web' }] }));
    setup = prepared.setup;
    dir = prepared.dir;
    hub = await startHub(setup);
    const letters = hub.deadLetters;
    const prefix = setup.loaded.config.nats.subjectPrefix;
    await hub.publish({ id: 'ev:seed', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'EV-1', quantity: 10 }] });
    const bad = { id: 'web:order:77:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'EV-1', qty: -2 }] };
    await hub.bus.publishRaw(`${prefix}.in.order.confirmed`, JSON.stringify(bad), bad.id);
    await waitFor('the event dead letter', async () => (await letters.depth()).events === 1);
    const [first] = (await letters.list({ kind: 'event' })).letters;
    expect(first).toMatchObject({ kind: 'event', eventId: bad.id, channelId: 'web' });
    expect(first!.reason).toMatch(/qty/);

    // Replayed as it was: the same validation refuses it again, with the same reason.
    const replay = await cli(['dead-letters', 'replay', String(first!.seq), '--config', prepared.file]);
    expect(replay).toMatchObject({ code: 0 });
    expect(replay.out).toMatch(/replayed: published to .*in\.order\.confirmed/);
    await waitFor('the event to be dead-lettered again', async () => {
      const page = await letters.list({ kind: 'event' });
      return page.letters.length === 1 && page.letters[0]!.seq !== first!.seq;
    });
    const [again] = (await letters.list({ kind: 'event' })).letters;
    expect(again!.reason).toMatch(/qty/);
    expect(await letters.get(first!.seq)).toBeUndefined();
    expect((await hub.ledger.getLevel('EV-1'))?.available).toBe(10);

    // Corrected through the admin API: applied once.
    const corrected = { ...bad, lines: [{ sku: 'EV-1', qty: 2 }] };
    const fixed = await api(hub, 'POST', `/v1/dead-letters/${again!.seq}/replay`, ADMIN, { payload: corrected });
    expect(fixed.json).toMatchObject({ kind: 'event', outcome: 'republished', eventId: bad.id });
    await waitFor('the corrected order to be applied', async () => (await hub!.ledger.getLevel('EV-1'))?.available === 8);

    // The channel sends the broken order again; replaying a correction of it changes nothing more.
    await hub.bus.publishRaw(`${prefix}.in.order.confirmed`, JSON.stringify({ ...bad, reference: 'resent' }), `${bad.id}:resent`);
    await waitFor('the resent dead letter', async () => (await letters.depth()).events === 1);
    const [resent] = (await letters.list({ kind: 'event' })).letters;
    const once = await letters.replay(resent!.seq, { payload: corrected });
    expect(once).toMatchObject({ outcome: 'already-applied', eventId: bad.id });
    await hub.publish({ id: 'ev:after', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'EV-MARK', quantity: 1 }] });
    await waitFor('the marker event', () => hub!.ledger.isProcessed('ev:after'));
    expect((await hub.ledger.getLevel('EV-1'))?.available).toBe(8);
    const audit = await hub.ledger.listAudit({ sku: 'EV-1' });
    expect(audit.filter((a) => a.eventId === bad.id)).toHaveLength(1);
    expect(await letters.depth()).toEqual({ events: 0, pushes: {} });
  });

  it('the CLI lists, shows and discards letters, and sends a push replay to the hub it names', async () => {
    const base = await setupTestHub({ channels: [{ id: 'down' }], dispatch: { maxAttempts: 1, backoffBaseMs: 20, backoffMaxMs: 40, reconcileIntervalMs: 600_000 } });
    const prepared = await withTokens(base);
    setup = prepared.setup;
    dir = prepared.dir;
    hub = await startHub(setup);
    const down = setup.simulators.get('down')!;
    const letters = hub.deadLetters;
    down.setFault({ kind: 'down' });
    await hub.publish({ id: 'cli:1', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'CLI-1', quantity: 3 }, { sku: 'CLI-2', quantity: 4 }] });
    await waitFor('two push letters', async () => (await letters.depth()).pushes.down === 2, 15_000);
    const [one, two] = (await letters.list()).letters;

    const list = await cli(['dead-letters', 'list', '--config', prepared.file, '--limit', '1']);
    expect(list.code).toBe(0);
    expect(list.out).toContain(`#${one!.seq}`);
    expect(list.out).toContain('push');
    expect(list.out).toContain('CLI-1');
    expect(list.out).toContain(`1 of 2 shown; next page: --after ${one!.seq}`);

    const show = await cli(['dead-letters', 'show', String(two!.seq), '--config', prepared.file]);
    expect(show.out).toContain('channel down, SKU CLI-2: quantity 4');

    const direct = await cli(['dead-letters', 'replay', String(one!.seq), '--config', prepared.file]);
    expect(direct.code).toBe(1);
    expect(direct.err).toMatch(/only the running hub can push it again.*--hub/s);

    down.setFault(null);
    const viaHub = await cli(['dead-letters', 'replay', String(one!.seq), '--hub', hub.url, '--token', ADMIN]);
    expect(viaHub).toMatchObject({ code: 0 });
    expect(viaHub.out).toContain('will be pushed the ledger\'s current quantity of CLI-1');
    await waitFor('CLI-1 on the channel', () => down.shown('CLI-1') === 3);

    expect(await cli(['dead-letters', 'discard', String(two!.seq), '--config', prepared.file])).toMatchObject({ code: 0, out: `dead letter #${two!.seq} discarded` });
    expect(await cli(['dead-letters', 'show', String(two!.seq), '--config', prepared.file])).toMatchObject({ code: 3 });
    expect(await letters.depth()).toEqual({ events: 0, pushes: {} });
    // Discarding a letter removes the letter, not the SKU's duty: CLI-2 was parked by the outage alone, so
    // it comes back as soon as the channel answers a push again (the replay of CLI-1).
    await waitFor('CLI-2 on the channel once it answers again', () => down.shown('CLI-2') === 4);
  });
});
