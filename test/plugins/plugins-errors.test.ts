import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadConnector, type LoadedConnector } from '../../core/plugins/load-connector.ts';
import { stampError } from '../../core/plugins/stamp-connector-errors.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import {
  ErrorCodes,
  PluginError,
  RejectedError,
  RetryableError,
  ThrottledError,
  WebhookSignatureError,
  isRetryableError,
  isThrottledError,
  retryAfterOf,
} from '../../core/internal.ts';

const pluginsDir = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function shop(): Promise<LoadedConnector> {
  return loadConnector(
    { id: 'shop-eu', connector: './good-connector.ts', options: { apiKey: 'k' }, rules: { reserve: 0, share: 1 }, limits: {}, enabled: true },
    pluginsDir,
    { signal: new AbortController().signal, logger: quiet, state: memoryConnectorState(), registerSecret: () => {} },
  );
}

async function pushFailure(sku: string): Promise<unknown> {
  const { instance } = await shop();
  return instance.push([{ sku, quantity: 1, version: 1 }], new AbortController().signal).then(
    () => {
      throw new Error('push was expected to fail');
    },
    (err: unknown) => err,
  );
}

describe('errors escaping a connector', () => {
  it('keep the RetryableError class, code and retry hint, stamped with the channel id', async () => {
    const err = await pushFailure('throw:retryable');
    expect(err).toBeInstanceOf(RetryableError);
    expect(isRetryableError(err)).toBe(true);
    expect(err).toMatchObject({ code: ErrorCodes.CONNECTOR_RETRYABLE, channelId: 'shop-eu', retryAfterMs: 500, message: 'channel "shop-eu": upstream 503' });
  });

  it('keep the ThrottledError class, so the host still pauses the channel', async () => {
    const err = await pushFailure('throw:throttled');
    expect(err).toBeInstanceOf(ThrottledError);
    expect(isThrottledError(err)).toBe(true);
    expect(err).toMatchObject({ code: ErrorCodes.CONNECTOR_THROTTLED, channelId: 'shop-eu', retryAfterMs: 2000, message: 'channel "shop-eu": upstream 429' });
  });

  it('keep the RejectedError class, so the host still dead-letters at once', async () => {
    const err = await pushFailure('throw:rejected');
    expect(err).toBeInstanceOf(RejectedError);
    expect(err).toMatchObject({ code: ErrorCodes.CONNECTOR_REJECTED, channelId: 'shop-eu', message: 'channel "shop-eu": bad credentials' });
  });

  it('keep a plain error as it is, stamped', async () => {
    const err = await pushFailure('throw:plain');
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ channelId: 'shop-eu', message: 'channel "shop-eu": cannot read properties of undefined' });
    expect((err as Error).stack).toContain('channel "shop-eu": cannot read properties of undefined');
  });

  it('keep an AbortError an AbortError, stamped', async () => {
    const err = await pushFailure('throw:abort');
    expect(err).toBeInstanceOf(DOMException);
    expect(err).toMatchObject({ name: 'AbortError', channelId: 'shop-eu', message: 'channel "shop-eu": the operation was aborted' });
  });

  it('turn a thrown non-error into a PluginError naming the channel', async () => {
    const err = await pushFailure('throw:string');
    expect(err).toBeInstanceOf(PluginError);
    expect(err).toMatchObject({ code: ErrorCodes.PLUGIN_FAILED, channelId: 'shop-eu', cause: 'a string, not an error' });
    expect((err as Error).message).toBe('channel "shop-eu": connector threw a non-error value: a string, not an error');
  });

  it('from handleWebhook keep the WebhookSignatureError class, stamped', async () => {
    const { instance } = await shop();
    const request = { rawBody: Buffer.from('{}'), headers: {}, path: '', query: {} };
    const err = await instance.handleWebhook?.(request, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookSignatureError);
    expect(err).toMatchObject({ code: ErrorCodes.WEBHOOK_SIGNATURE, channelId: 'shop-eu', message: 'channel "shop-eu": signature mismatch' });
  });

  it('are stamped once, however many times they pass a wrapper', () => {
    const err = new RetryableError('timeout');
    stampError(stampError(err, 'shop-eu'), 'shop-eu');
    expect(err.message).toBe('channel "shop-eu": timeout');
  });

  it('that are frozen are wrapped in a PluginError carrying them as cause', () => {
    const frozen = Object.freeze(new RejectedError('nope'));
    const err = stampError(frozen, 'shop-eu');
    expect(err).toBeInstanceOf(PluginError);
    expect(err.cause).toBe(frozen);
    expect(err.message).toBe('channel "shop-eu": nope');
  });

  it('that are frozen keep their code and retry hint through the wrapper, so a frozen throttle still pauses the channel', () => {
    const err = stampError(Object.freeze(new ThrottledError('slow down', { retryAfterMs: 1500 })), 'shop-eu');
    expect(isThrottledError(err)).toBe(true);
    expect(retryAfterOf(err)).toBe(1500);
    expect(stampError(Object.freeze(new Error('plain')), 'shop-eu')).toMatchObject({ code: ErrorCodes.PLUGIN_FAILED });
  });
});

describe('results of a connector', () => {
  it('pass through the wrapper untouched', async () => {
    const { instance } = await shop();
    const quantities = await instance.fetchQuantities?.(['A', 'B'], new AbortController().signal);
    expect(quantities).toEqual(new Map([['A', 0], ['B', 0]]));
  });
});
