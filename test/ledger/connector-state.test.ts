import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import { ErrorCodes } from '../../core/errors.ts';
import { DatabaseConnectorState, MAX_CONNECTOR_STATE_VALUE_BYTES } from '../../core/ledger/database-connector-state.ts';
import { openDatabase } from '../../core/ledger/database.ts';
import { pgliteBackend, postgresBackend, type LedgerBackend } from '../ledger-support/ledger-backends.ts';
import { setupTestHub, startHub, type TestHubSetup } from '../support/test-hub.ts';
import { uniqueSuffix } from '../support/servers.ts';

describe.each([postgresBackend(), pgliteBackend()])('durable connector state on $name', (backend: LedgerBackend) => {
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  const channel = () => `ch-${uniqueSuffix()}`;

  it('gives back what was set, and nothing for a key never set', async () => {
    const state = new DatabaseConnectorState(backend.primary().db, channel());
    expect(await state.get('refresh-token')).toBeUndefined();
    await state.set('refresh-token', 'r1');
    await state.set('refresh-token', 'r2');
    expect(await state.get('refresh-token')).toBe('r2');
  });

  it('keeps each channel apart', async () => {
    const [a, b] = [channel(), channel()];
    await new DatabaseConnectorState(backend.primary().db, a).set('quota', 'a');
    await new DatabaseConnectorState(backend.primary().db, b).set('quota', 'b');
    expect(await new DatabaseConnectorState(backend.primary().db, a).get('quota')).toBe('a');
    expect(await new DatabaseConnectorState(backend.primary().db, b).get('quota')).toBe('b');
  });

  it('forgets a deleted key, and deleting a key never set is no error', async () => {
    const state = new DatabaseConnectorState(backend.primary().db, channel());
    await state.set('k', 'v');
    await state.delete('k');
    await state.delete('never-set');
    expect(await state.get('k')).toBeUndefined();
  });

  it('holds a value of exactly 64 KiB, multi-byte characters counted in bytes', async () => {
    const state = new DatabaseConnectorState(backend.primary().db, channel());
    const value = 'é'.repeat(MAX_CONNECTOR_STATE_VALUE_BYTES / 2);
    await state.set('big', value);
    expect(await state.get('big')).toBe(value);
  });

  it('refuses a value over 64 KiB with an error naming the key, and keeps the old value', async () => {
    const state = new DatabaseConnectorState(backend.primary().db, channel());
    await state.set('cache', 'old');
    const err = await state.set('cache', 'x'.repeat(MAX_CONNECTOR_STATE_VALUE_BYTES + 1)).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.CONNECTOR_STATE_INVALID, key: 'cache' });
    expect((err as Error).message).toContain('"cache"');
    expect(await state.get('cache')).toBe('old');
  });

  it('refuses a NUL character, which the database cannot store, naming the key', async () => {
    const state = new DatabaseConnectorState(backend.primary().db, channel());
    const err = await state.set('token', 'a\u0000b').then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.CONNECTOR_STATE_INVALID, key: 'token' });
  });

  it('refuses an empty key', async () => {
    const state = new DatabaseConnectorState(backend.primary().db, channel());
    await expect(state.get('')).rejects.toMatchObject({ code: ErrorCodes.CONNECTOR_STATE_INVALID });
  });
});

describe('connector state in a running hub', () => {
  let setup: TestHubSetup;
  beforeAll(async () => {
    setup = await setupTestHub({ channels: [{ id: 'web' }] });
  });
  afterAll(() => setup.cleanup());

  it('survives a hub restart: the connector finds what it stored in the previous run', async () => {
    const plugin = fileURLToPath(new URL('../fixtures/plugins/boot-counter.ts', import.meta.url));
    const config = { ...setup.config, channels: [...(setup.config.channels as unknown[]), { id: 'counter', connector: plugin, options: {} }] };
    const result = validateConfigObject(config);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    await (await startHub(result)).stop();
    await (await startHub(result)).stop();
    const handle = await openDatabase({ url: setup.database.url });
    try {
      expect(await new DatabaseConnectorState(handle.db, 'counter').get('boots')).toBe('2');
      expect(await new DatabaseConnectorState(handle.db, 'web').get('boots')).toBeUndefined();
    } finally {
      await handle.close();
    }
  });
});
