import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import bigcommerce from '../../connectors/bigcommerce/index.ts';
import { startBigCommerceSimulator } from '../../connectors/bigcommerce/simulator.ts';
import etsy from '../../connectors/etsy/index.ts';
import { startEtsySimulator } from '../../connectors/etsy/simulator.ts';
import {
  createStandardWebhookVerifier,
  signStandardWebhook,
  standardWebhookSecretProblem,
  verifyStandardWebhook,
} from '../../connectors/_kit/standard-webhooks.ts';
import { isStockrelayError, type ConnectorInstance, type WebhookRequest } from '../../core/sdk.ts';
import { memoryConnectorState } from '../../core/plugins/memory-connector-state.ts';
import { validateConnectorOptions } from '../../core/plugins/validate-connector-options.ts';
import { runValidate } from '../../core/config/validate-command.ts';

/** The reference libraries' own test cases, as data (test/fixtures/vendor/standard-webhooks/SOURCE). */
interface Cases {
  defaults: { msgId: string; payload: string; secret: string };
  secrets: Array<{ from: string; secret: string; expect: 'refused' | 'accepted' }>;
  knownAnswers: Array<{ from: string; secret: string; msgId: string; timestamp: string; payload: string; signature: string }>;
  verifications: Array<{
    from: string;
    secret?: string;
    signingSecret?: string;
    payload?: string;
    timestamp?: string;
    timestampOffsetSeconds?: number;
    omit?: string[];
    signature: string;
    extraSignatures?: { before: string[]; after: string[] };
    expect: 'valid' | 'invalid';
  }>;
}
const cases = JSON.parse(readFileSync(new URL('../fixtures/vendor/standard-webhooks/cases.json', import.meta.url), 'utf8')) as Cases;

/** How the reference tests sign: HMAC-SHA256 with the base64-decoded secret (prefix stripped), independent of the code under test. */
function referenceSignature(secret: string, msgId: string, timestamp: string, payload: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestamp}.${payload}`).digest('base64')}`;
}

/** One reference verification case as a delivery: verifier secret, raw body and headers. */
function delivery(c: Cases['verifications'][number]): { secret: string; rawBody: Buffer; headers: Record<string, string | undefined> } {
  const secret = c.secret ?? cases.defaults.secret;
  const payload = c.payload ?? cases.defaults.payload;
  const now = Math.floor(Date.now() / 1000);
  const signedTimestamp = String(now + (c.timestampOffsetSeconds ?? 0));
  const valid = referenceSignature(c.signingSecret ?? secret, cases.defaults.msgId, signedTimestamp, payload);
  let signature = c.signature === 'valid' ? valid : c.signature.startsWith('valid-prefix:') ? valid.slice(0, Number(c.signature.split(':')[1])) : c.signature;
  if (c.extraSignatures) signature = [...c.extraSignatures.before, signature, ...c.extraSignatures.after].join(' ');
  const headers: Record<string, string | undefined> = {
    'webhook-id': cases.defaults.msgId,
    'webhook-timestamp': c.timestamp ?? signedTimestamp,
    'webhook-signature': signature,
  };
  for (const name of c.omit ?? []) delete headers[name];
  return { secret, rawBody: Buffer.from(payload), headers };
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const context = () => ({ channelId: 'sw-test', logger: silent, signal, state: memoryConnectorState(), registerSecret: () => {} });
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** Each verifier we ship, reduced to "does it accept this delivery's signature". */
type Verifier = (secret: string, request: WebhookRequest) => Promise<boolean>;

/** Through a connector's handleWebhook: only a WebhookSignatureError means "refused"; anything after the check (no order in the body) is not. */
const viaConnector = (make: (secret: string) => Promise<ConnectorInstance>): Verifier => async (secret, request) => {
  const connector = await make(secret);
  try {
    await connector.handleWebhook!(request, signal);
    return true;
  } catch (err) {
    if (isStockrelayError(err) && err.code === 'SR_WEBHOOK_SIGNATURE') return false;
    return true;
  }
};

const verifiers: Record<string, Verifier> = {
  'the reference library': async (secret, request) => {
    try {
      new Webhook(secret).verify(request.rawBody.toString('utf8'), request.headers as Record<string, string>);
      return true;
    } catch {
      return false;
    }
  },
  'the kit': async (secret, request) => verifyStandardWebhook([secret], request.headers, request.rawBody).ok,
  'the BigCommerce connector': viaConnector(async (secret) => {
    const sim = await startBigCommerceSimulator({ latency: { p50: 0, p99: 0 } });
    cleanup.push(sim.close);
    const connector = await bigcommerce.create({ ...sim.connectorOptions([]), webhookSecret: secret }, context());
    cleanup.push(async () => connector.close?.());
    return connector;
  }),
  'the Etsy connector': viaConnector(async (secret) => {
    const sim = await startEtsySimulator({ latency: { p50: 0, p99: 0 } });
    cleanup.push(sim.close);
    const connector = await etsy.create({ ...sim.connectorOptions([]), webhookSecret: secret }, context());
    cleanup.push(async () => connector.close?.());
    return connector;
  }),
};

describe('Standard Webhooks: every verifier agrees with the reference test cases', () => {
  for (const [name, verify] of Object.entries(verifiers)) {
    it(`${name} accepts and refuses exactly what the reference cases say (${cases.verifications.length} cases)`, async () => {
      const verdicts = [];
      for (const c of cases.verifications) {
        const d = delivery(c);
        const accepted = await verify(d.secret, { rawBody: d.rawBody, headers: d.headers, path: '', query: {} });
        verdicts.push({ case: c.from, accepted });
      }
      expect(verdicts).toEqual(cases.verifications.map((c) => ({ case: c.from, accepted: c.expect === 'valid' })));
    });
  }

  it('signs the reference known answer', () => {
    for (const k of cases.knownAnswers) {
      expect(signStandardWebhook(k.secret, k.msgId, k.timestamp, k.payload)).toBe(k.signature);
      expect(referenceSignature(k.secret, k.msgId, k.timestamp, k.payload)).toBe(k.signature);
    }
  });
});

describe('Standard Webhooks: secrets', () => {
  it('refuses the secrets the reference refuses (empty, whsec_ alone, not base64) and accepts the others', () => {
    for (const c of cases.secrets) {
      expect({ secret: c.secret, refused: standardWebhookSecretProblem(c.secret) !== undefined }).toEqual({ secret: c.secret, refused: c.expect === 'refused' });
    }
  });

  it('never accepts a delivery signed with an empty key, whatever secret was configured', () => {
    const body = Buffer.from('{"scope":"store/order/created"}');
    const now = Math.floor(Date.now() / 1000);
    const emptyKeySignature = `v1,${createHmac('sha256', Buffer.alloc(0)).update(`msg_1.${now}.`).update(body).digest('base64')}`;
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(now), 'webhook-signature': emptyKeySignature };
    for (const secret of ['whsec_', 'whsec_!!!!', 'whsec_c2Vj$mV0', 'whsec_c2VjcmV0$']) {
      expect(() => verifyStandardWebhook([secret], headers, body)).toThrow(/not base64|no key|empty/);
    }
  });

  it('names the field and never the value when a connector is given a malformed secret', async () => {
    const canary = 'whsec_CANARY!!not-base64';
    const bcSim = await startBigCommerceSimulator({ latency: { p50: 0, p99: 0 } });
    cleanup.push(bcSim.close);
    const etsySim = await startEtsySimulator({ latency: { p50: 0, p99: 0 } });
    cleanup.push(etsySim.close);
    const attempts = [
      () => bigcommerce.create({ ...bcSim.connectorOptions([]), webhookSecret: canary }, context()),
      () => etsy.create({ ...etsySim.connectorOptions([]), webhookSecret: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', canary] }, context()),
    ];
    for (const attempt of attempts) {
      const err = await Promise.resolve().then(attempt).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/options\.webhookSecret/);
      expect(err?.message).not.toContain('CANARY');
    }
  });

  it('has each options schema refuse a malformed secret, so `stockrelay validate` does before anything runs', async () => {
    const bcSim = await startBigCommerceSimulator({ latency: { p50: 0, p99: 0 } });
    cleanup.push(bcSim.close);
    const etsySim = await startEtsySimulator({ latency: { p50: 0, p99: 0 } });
    cleanup.push(etsySim.close);
    for (const [definition, options] of [
      [bigcommerce, bcSim.connectorOptions([])],
      [etsy, etsySim.connectorOptions([])],
    ] as const) {
      for (const bad of ['whsec_', 'whsec_!!!!', 'not base64 at all', '']) {
        const checked = validateConnectorOptions(definition, { ...options, webhookSecret: bad });
        expect(checked.ok, `${definition.name} accepted ${JSON.stringify(bad)}`).toBe(false);
        if (!checked.ok) expect(checked.problems.some((p) => p.path.includes('webhookSecret'))).toBe(true);
      }
      expect(validateConnectorOptions(definition, { ...options, webhookSecret: cases.defaults.secret }).ok).toBe(true);
    }
  });
});

describe('Standard Webhooks: stockrelay validate', () => {
  it('fails a config whose Etsy or BigCommerce webhook secret is malformed, written or from the environment, without printing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-whsec-'));
    const file = join(dir, 'stockrelay.json');
    const etsyOptions = { baseUrl: 'http://127.0.0.1:1', keystring: 'k', sharedSecret: 's', accessToken: '1.t', shopId: 1, listings: {} };
    const bcOptions = { storeHash: 'abc', accessToken: 't', skus: {} };
    const config = (etsySecret: unknown, bcSecret: unknown) => ({
      database: { url: 'postgres://postgres@127.0.0.1:5432/postgres' },
      channels: [
        { id: 'etsy-shop', connector: 'etsy', options: { ...etsyOptions, webhookSecret: etsySecret } },
        { id: 'bc-store', connector: 'bigcommerce', options: { ...bcOptions, webhookSecret: bcSecret } },
      ],
    });
    const run = async (content: unknown, env: NodeJS.ProcessEnv = {}) => {
      writeFileSync(file, JSON.stringify(content));
      const lines: string[] = [];
      const code = await runValidate(file, (line) => lines.push(line), env);
      return { code, text: lines.join('\n') };
    };
    expect((await run(config(cases.defaults.secret, `whsec_${cases.defaults.secret}`))).code).toBe(0);
    const written = await run(config('whsec_!!!!CANARY', 'whsec_'));
    expect(written.code).toBe(1);
    expect(written.text).toMatch(/channels\/0\/options\/webhookSecret/);
    expect(written.text).toMatch(/channels\/1\/options\/webhookSecret/);
    expect(written.text).not.toContain('CANARY');
    const fromEnv = await run(config({ env: 'SR_ETSY_WHSEC' }, cases.defaults.secret), { SR_ETSY_WHSEC: 'whsec_CANARY!!' });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.text).not.toContain('CANARY');
  });
});

describe('Standard Webhooks: the signature covers the timestamp header as sent', () => {
  const secret = cases.defaults.secret;
  const body = Buffer.from(cases.defaults.payload);

  it('refuses a timestamp header written differently from the number that was signed', () => {
    const now = Math.floor(Date.now() / 1000);
    const signature = referenceSignature(secret, 'msg_1', String(now), cases.defaults.payload);
    const verify = createStandardWebhookVerifier([secret]);
    expect(verify({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(now), 'webhook-signature': signature }, body).ok).toBe(true);
    for (const header of [`0${now}`, `${now}.0`, `+${now}`, `${now}abc`, ` ${now}`]) {
      expect(verify({ 'webhook-id': 'msg_1', 'webhook-timestamp': header, 'webhook-signature': signature }, body).ok, header).toBe(false);
    }
  });

  it('honours a configured replay window', () => {
    const now = Math.floor(Date.now() / 1000);
    const at = now - 600;
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(at), 'webhook-signature': referenceSignature(secret, 'msg_1', String(at), cases.defaults.payload) };
    expect(createStandardWebhookVerifier([secret])(headers, body).ok).toBe(false);
    expect(createStandardWebhookVerifier([secret], { toleranceSeconds: 900 })(headers, body).ok).toBe(true);
  });

  it('accepts a delivery signed with either of two active secrets', () => {
    const now = Math.floor(Date.now() / 1000);
    const other = 'whsec_b2xkLXNlY3JldC1ub3QtdXNlZA==';
    const verify = createStandardWebhookVerifier([other, secret]);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(now), 'webhook-signature': signStandardWebhook(secret, 'msg_1', now, body) };
    expect(verify(headers, body).ok).toBe(true);
  });
});
