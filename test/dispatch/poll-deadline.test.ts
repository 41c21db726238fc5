import { afterAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../core/hub.ts';
import { fixturePlugin, setupCustomHub, type CustomHubSetup } from '../support/custom-hub.ts';
import { startHub, waitFor } from '../support/test-hub.ts';

describe('order polling deadline', () => {
  let setup: CustomHubSetup | undefined;
  let hub: Hub | undefined;
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
  });

  it('a poll that hangs is abandoned at dispatch.pollTimeoutMs and polling goes on', async () => {
    setup = await setupCustomHub({ channels: [{ id: 'queue', connector: fixturePlugin('hanging-poll-connector.ts') }], dispatch: { pollTimeoutMs: 300 } });
    hub = await startHub(setup, { pollIntervalMs: 100 });
    const stored = async (): Promise<number> => (await hub!.bus.jsm.streams.info(hub!.loaded.config.nats.stream)).state.messages;
    // Without the deadline the first poll holds the poller for good and the order never arrives.
    await waitFor('the order from a later poll', async () => (await stored()) === 1, 20_000);
    expect(await stored()).toBe(1);
  });
});
