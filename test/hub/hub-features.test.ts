import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubContext } from '../../core/features/hub-context.ts';
import type { HubFeature } from '../../core/features/hub-feature.ts';
import { setupTestHub, startHub, type TestHubSetup } from '../support/test-hub.ts';

/** A feature that writes what happens to it into `journal`. */
function recording(name: string, journal: string[], options: { failStart?: boolean } = {}): HubFeature {
  return {
    name,
    start(ctx: HubContext) {
      if (options.failStart) throw new Error(`${name} cannot start`);
      journal.push(`start ${name} (${ctx.channels.list().map((c) => c.id).join(',')})`);
    },
    routes(app) {
      journal.push(`routes ${name}`);
      app.get(`/test/${name}`, async () => ({ name }));
    },
    stop() {
      journal.push(`stop ${name}`);
    },
  };
}

describe('the hub starts its features in order and stops them in reverse', () => {
  let setup: TestHubSetup;
  beforeAll(async () => {
    setup = await setupTestHub({ channels: [{ id: 'web' }] });
  });
  afterAll(async () => {
    await setup?.cleanup();
  });

  it('starts every feature before registering routes, serves them, and stops them last to first', async () => {
    const journal: string[] = [];
    const hub = await startHub(setup, { features: [recording('first', journal), recording('second', journal)] });
    try {
      expect(journal).toEqual(['start first (web)', 'start second (web)', 'routes first', 'routes second']);
      expect(await (await fetch(`${hub.url}/test/second`)).json()).toEqual({ name: 'second' });
    } finally {
      await hub.stop();
    }
    expect(journal.slice(-2)).toEqual(['stop second', 'stop first']);
  });

  it('refuses to start when a feature fails to start, and stops the features started before it', async () => {
    const journal: string[] = [];
    await expect(startHub(setup, { features: [recording('first', journal), recording('broken', journal, { failStart: true }), recording('never', journal)] })).rejects.toThrow('broken cannot start');
    expect(journal).toEqual(['start first (web)', 'stop first']);
  });
});
