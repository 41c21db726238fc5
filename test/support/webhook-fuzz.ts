import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hub } from '../../core/hub.ts';
import type { SimulatorHandle } from '../../core/sdk.ts';
import { startSimulatedHub, type SimulatedHub } from './simulated-hub.ts';
import { waitFor } from './test-hub.ts';
import { seededRandom } from '../../core/tooling/simulation/seeded-random.ts';

/**
 * Signed-webhook fuzzing: bodies that are malformed in every way a buggy or hostile sender could make
 * them, each signed exactly as the channel signs (the simulator's `signWebhook`), posted to a running
 * hub's `/webhooks/<channel>`. A signed body passes the signature check, so it reaches the connector's
 * parser and the ingress's event checks: what it must never do is crash the hub, answer 5xx (the
 * channel would re-deliver it forever) or change the ledger beyond what its own signed content says.
 *
 * Everything is seeded: the same seed gives the same bodies, so a failing sample can be replayed.
 */

/** One webhook as the channel's simulator sent it. */
export interface CapturedDelivery {
  body: Buffer;
  /** Header names in lower case, as sent (the signature headers among them). */
  headers: Record<string, string>;
}

/** One fuzzed body and the mutations that made it (for the report). */
export interface FuzzCase {
  index: number;
  body: Buffer;
  mutation: string;
}

export interface FuzzFailure {
  index: number;
  status: number | 'network-error';
  mutation: string;
  /** The body, shortened for the report (the first 300 characters, as UTF-8 with escapes). */
  sample: string;
  answer: string;
}

export interface FuzzChannelReport {
  channelId: string;
  connector: string;
  sent: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  /** 5xx answers and failed requests, at most 20 samples kept. */
  failures: FuzzFailure[];
  failureCount: number;
  /** Ledger changes that no 2xx-answered signed body could have asked for (see {@link checkLedger}). */
  ledgerViolations: string[];
}

export interface FuzzReport {
  seed: number;
  bodiesPerChannel: number;
  /** Channels fuzzed (their simulator has `signWebhook`). */
  covered: FuzzChannelReport[];
  /** Channels skipped, with the reason. */
  skipped: Array<{ channelId: string; connector: string; reason: string }>;
  /** The hub still answered `/healthz` and took a valid delivery after the fuzz. */
  hubAlive: boolean;
}

/** Every built-in connector that can receive webhooks or queue notifications. */
export const BUILT_IN_CONNECTORS = ['sandbox', 'shopify', 'woocommerce', 'bigcommerce', 'etsy', 'ebay', 'tiktok', 'walmart', 'amazon'] as const;

export { seededRandom };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/**
 * Raw JSON number texts JSON.stringify cannot produce: ids beyond 2^53, exponents, integer overflow
 * of the ledger's columns. Placed through a marker string and substituted in the serialized body.
 */
const RAW_NUMBERS = [
  '9007199254740993', // 2^53 + 1: loses precision as a JS number
  '18446744073709551617',
  '2147483648', // PostgreSQL integer + 1
  '-2147483649',
  '1e308',
  '1e400', // parses to Infinity
  '-0',
  '0.000001',
  '123456789012345678901234567890',
  '-1',
  '0',
  '1.5',
];

const STRANGE_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'null',
  'NaN',
  'undefined',
  '../../../etc/passwd',
  '%2e%2e%2f%2e%2e%2f',
  '/v1/orders?x=1#',
  '9999-99-99T99:99:99Z',
  'not a date',
  '0000-00-00',
  '+275760-09-13T00:00:00.001Z',
  '2026-02-30T10:00:00Z',
  '\ud800',
  '\u202e\u0041\u0042',
  '😀'.repeat(50),
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${process.exit()}',
  '__proto__',
  'constructor',
];

const REPLACEMENTS: ReadonlyArray<(random: Random) => [Json, string]> = [
  () => [null, 'null'],
  () => [true, 'true'],
  () => [false, 'false'],
  () => [[], 'empty array'],
  () => [{}, 'empty object'],
  () => [0, 'zero'],
  () => [-1, 'minus one'],
  (random) => [pick(random, STRANGE_STRINGS), 'strange string'],
  (random) => [`\u0001RAW${RAW_NUMBERS.indexOf(pick(random, RAW_NUMBERS))}\u0001`, 'raw number'],
  (random) => ['x'.repeat(1 + Math.floor(random() * 20_000)), 'long string'],
  // As raw text: a tree this deep would overflow the fuzzer's own recursion.
  (random) => [`\u0001DEEP${100 + Math.floor(random() * 5_000)}\u0001`, 'deep nesting'],
  () => [[[[[]]]], 'nested arrays'],
  () => [{ '': { '': null } }, 'empty keys'],
  () => [['a', 1, null, { a: [] }], 'mixed array'],
];

interface Slot {
  parent: Json[] | { [key: string]: Json };
  key: string | number;
}

/** Every place in the tree a value sits, parents before children (not below depth 64: deep nests are ours). */
function slots(root: Json): Slot[] {
  const out: Slot[] = [];
  const walk = (node: Json, depth: number): void => {
    if (depth > 64) return;
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ parent: node, key: i });
        walk(child, depth + 1);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        out.push({ parent: node, key });
        walk(child, depth + 1);
      }
    }
  };
  walk(root, 0);
  return out;
}

function getAt(slot: Slot): Json {
  return Array.isArray(slot.parent) ? slot.parent[slot.key as number]! : slot.parent[slot.key as string]!;
}

function setAt(slot: Slot, value: Json): void {
  if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = value;
  else slot.parent[slot.key as string] = value;
}

function removeAt(slot: Slot): void {
  if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
  else delete slot.parent[slot.key as string];
}

/** One structural mutation of a parsed body, in place; returns what it did. */
function mutateTree(root: Json, random: Random): string {
  const all = slots(root);
  if (all.length === 0) return 'nothing to mutate';
  const slot = pick(random, all);
  const where = String(slot.key);
  const roll = random();
  if (roll < 0.15) {
    removeAt(slot);
    return `removed ${where}`;
  }
  if (roll < 0.25) {
    const current = getAt(slot);
    if (Array.isArray(current) && current.length > 0) {
      const copies = pick(random, [2, 10, 600, 5_000]);
      setAt(slot, Array.from({ length: copies }, (_, i) => structuredClone(current[i % current.length]!)));
      return `${where} repeated ${copies} times`;
    }
    setAt(slot, [current, current]);
    return `${where} wrapped in an array`;
  }
  if (roll < 0.32) {
    const current = getAt(slot);
    if (typeof current === 'number') {
      setAt(slot, pick(random, [-current, current * 1e12, current + 0.5, -2147483648, 2147483647]));
      return `${where} number changed`;
    }
    if (typeof current === 'string') {
      setAt(slot, pick(random, [current + '\u0000', current.repeat(50), Number(current) ? Number(current) : current.toUpperCase(), `${current}/../x`]));
      return `${where} string changed`;
    }
  }
  const [value, what] = pick(random, REPLACEMENTS)(random);
  setAt(slot, value);
  return `${where} → ${what}`;
}

/** Serializes with the raw-number markers replaced by their raw text. */
function serialize(root: Json): string {
  return JSON.stringify(root)
    .replace(/"\\u0001RAW(\d+)\\u0001"/g, (_, i: string) => RAW_NUMBERS[Number(i)]!)
    .replace(/"\\u0001DEEP(\d+)\\u0001"/g, (_, depth: string) => `${'['.repeat(Number(depth))}1${']'.repeat(Number(depth))}`);
}

/** Byte-level mutations of the whole body: what a broken sender or a proxy can make of it. */
const BYTE_MUTATIONS: ReadonlyArray<[string, (body: Buffer, random: Random) => Buffer]> = [
  ['empty body', () => Buffer.alloc(0)],
  ['truncated', (body, random) => body.subarray(0, Math.floor(random() * body.length))],
  ['NUL inserted', (body, random) => insert(body, Math.floor(random() * body.length), Buffer.from([0]))],
  ['random byte flipped', (body, random) => flip(body, random)],
  ['invalid UTF-8', (body, random) => insert(body, Math.floor(random() * body.length), Buffer.from([0xc3, 0x28, 0xff]))],
  ['byte-order mark', (body) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body])],
  ['top-level null', () => Buffer.from('null')],
  ['top-level array', (body) => Buffer.concat([Buffer.from('['), body, Buffer.from(']')])],
  ['top-level number', () => Buffer.from('9007199254740993')],
  ['top-level string', () => Buffer.from('"order"')],
  ['not JSON', () => Buffer.from('topic=orders&id=1')],
  ['duplicate keys', (body) => Buffer.from(body.toString('utf8').replace(/^\{/, '{"id":null,"order":null,'))],
  ['trailing garbage', (body) => Buffer.concat([body, Buffer.from('}}}garbage')])],
  ['deep nesting', () => Buffer.from(`${'['.repeat(50_000)}${']'.repeat(50_000)}`)],
  ['random bytes', (_body, random) => Buffer.from(Array.from({ length: 1 + Math.floor(random() * 512) }, () => Math.floor(random() * 256)))],
];

function insert(body: Buffer, at: number, bytes: Buffer): Buffer {
  return Buffer.concat([body.subarray(0, at), bytes, body.subarray(at)]);
}

function flip(body: Buffer, random: Random): Buffer {
  if (body.length === 0) return body;
  const copy = Buffer.from(body);
  const at = Math.floor(random() * copy.length);
  copy[at] = copy[at]! ^ (1 << Math.floor(random() * 8));
  return copy;
}

/**
 * `count` malformed variants of `base` (a real delivery's body), reproducible from `seed`. About one in
 * six is a byte-level mutation; the rest parse `base` and change one to three places in its tree.
 */
export function* fuzzBodies(base: Buffer, seed: number, count: number): Generator<FuzzCase> {
  const random = seededRandom(seed);
  let parsed: Json | undefined;
  try {
    parsed = JSON.parse(base.toString('utf8')) as Json;
  } catch {
    parsed = undefined;
  }
  for (let index = 0; index < count; index++) {
    if (parsed === undefined || random() < 0.16) {
      const [name, mutate] = pick(random, BYTE_MUTATIONS);
      yield { index, body: mutate(base, random), mutation: name };
      continue;
    }
    const tree = structuredClone(parsed);
    const steps: string[] = [];
    const times = 1 + Math.floor(random() * 3);
    for (let i = 0; i < times; i++) steps.push(mutateTree(tree, random));
    yield { index, body: Buffer.from(serialize(tree), 'utf8'), mutation: steps.join('; ') };
  }
}

/**
 * Captures one real webhook of the simulator: points it at a local listener, places an order for
 * `lines`, and keeps the first delivery. The simulator's target is left at the listener: set it back.
 */
export async function captureDelivery(simulator: SimulatorHandle, lines: ReadonlyArray<{ sku: string; qty: number }>, timeoutMs = 10_000): Promise<CapturedDelivery> {
  if (!simulator.setWebhookTarget || !simulator.placeOrder) throw new Error('the simulator sends no webhooks');
  let captured: CapturedDelivery | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured ??= { body: Buffer.concat(chunks), headers: flatHeaders(req.headers) };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    simulator.setWebhookTarget(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await simulator.placeOrder(lines);
    await waitFor('a webhook delivery from the simulator', () => captured !== undefined, timeoutMs, 20);
    return captured!;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** Headers a transport sets itself; the fuzzed request gets fresh ones. */
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive']);

/**
 * Posts every case to `<hubUrl>/webhooks/<channelId>`, each signed by `sign` over its exact bytes, with
 * `concurrency` requests in flight. Returns the statuses and the 5xx/network failures.
 */
export async function fuzzChannel(options: {
  hubUrl: string;
  channelId: string;
  connector: string;
  base: CapturedDelivery;
  sign: (rawBody: Buffer, headers: Readonly<Record<string, string>>) => Record<string, string>;
  cases: Iterable<FuzzCase>;
  concurrency?: number;
  /** Per-request timeout, ms. Default 30,000 (a hung handler shows as a failure, not a hung fuzz). */
  timeoutMs?: number;
  /** Called with each 2xx-answered body (the ledger check needs what was accepted). */
  onAccepted?: (body: Buffer) => void;
}): Promise<FuzzChannelReport> {
  const report: FuzzChannelReport = { channelId: options.channelId, connector: options.connector, sent: 0, statuses: {}, failures: [], failureCount: 0, ledgerViolations: [] };
  const baseHeaders = Object.fromEntries(Object.entries(options.base.headers).filter(([name]) => !TRANSPORT_HEADERS.has(name)));
  const iterator = options.cases[Symbol.iterator]();
  const url = `${options.hubUrl}/webhooks/${options.channelId}`;
  const fail = (failure: FuzzFailure): void => {
    report.failureCount += 1;
    if (report.failures.length < 20) report.failures.push(failure);
  };
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      const fuzzCase = next.value;
      const headers = { ...baseHeaders, ...options.sign(fuzzCase.body, baseHeaders) };
      report.sent += 1;
      try {
        const res = await fetch(url, { method: 'POST', headers, body: fuzzCase.body, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
        const answer = await res.text();
        report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
        // Every body is signed as the channel signs it: a 401 means the fuzz never reached the parser.
        if (res.status >= 500 || res.status === 401) fail({ index: fuzzCase.index, status: res.status, mutation: fuzzCase.mutation, sample: sampleOf(fuzzCase.body), answer: answer.slice(0, 300) });
        else if (res.status < 300) options.onAccepted?.(fuzzCase.body);
      } catch (err) {
        report.statuses['network-error'] = (report.statuses['network-error'] ?? 0) + 1;
        fail({ index: fuzzCase.index, status: 'network-error', mutation: fuzzCase.mutation, sample: sampleOf(fuzzCase.body), answer: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return report;
}

function sampleOf(body: Buffer): string {
  return JSON.stringify(body.subarray(0, 300).toString('utf8')).slice(1, -1);
}

/**
 * The ledger check: every audit row written while a channel was fuzzed must come from that channel's own
 * order events (id `<channel>:…`, type `order.*`, never `stock.*`) and name a SKU that a signed body the
 * hub accepted (2xx) carried, or one of the SKUs of the real order the fuzz started from.
 */
export async function checkLedger(hub: Hub, channelId: string, sinceAuditId: number, acceptedText: string, baseSkus: readonly string[]): Promise<string[]> {
  const violations: string[] = [];
  const rows = (await hub.ledger.listAudit({ limit: 100_000 })).filter((row) => Number(row.id) > sinceAuditId);
  for (const row of rows) {
    if (row.channel !== channelId) violations.push(`audit ${row.id}: event ${row.eventId} names channel "${row.channel}"`);
    else if (!row.eventId.startsWith(`${channelId}:`)) violations.push(`audit ${row.id}: event id ${row.eventId} is not the channel's own`);
    else if (!row.eventType.startsWith('order.')) violations.push(`audit ${row.id}: a webhook changed the ledger with ${row.eventType}`);
    else if (!baseSkus.includes(row.sku) && !acceptedText.includes(row.sku) && !acceptedText.includes(JSON.stringify(row.sku).slice(1, -1))) violations.push(`audit ${row.id}: SKU ${JSON.stringify(row.sku)} was in no accepted body`);
  }
  return violations;
}

async function latestAuditId(hub: Hub): Promise<number> {
  const [latest] = await hub.ledger.listAudit({ limit: 1 });
  return latest ? Number(latest.id) : 0;
}

/** SKUs every fuzzed channel lists; the base order buys one of the first. */
const FUZZ_SKUS: Record<string, number> = { 'FUZZ-A': 1_000_000, 'FUZZ-B': 1_000_000, 'FUZZ-C': 1_000_000 };

/**
 * Fuzzes every given connector on one running hub (real NATS and Postgres): for each channel whose
 * simulator has `signWebhook`, captures a real delivery, then posts `bodiesPerChannel` signed variants.
 * Channels without `signWebhook` (or without webhooks) are listed as skipped. The sweep script calls
 * this with 20,000 bodies; `npm test` with a few hundred.
 */
export async function runWebhookFuzz(options: {
  bodiesPerChannel: number;
  seed?: number;
  connectors?: readonly string[];
  concurrency?: number;
  log?: (line: string) => void;
}): Promise<FuzzReport> {
  const seed = options.seed ?? 1;
  const connectors = options.connectors ?? BUILT_IN_CONNECTORS;
  const env: SimulatedHub = await startSimulatedHub({
    channels: connectors.map((connector) => ({ id: `fz-${connector}`, connector })),
    skus: FUZZ_SKUS,
    // The fuzz is about parsing: a channel API throttling the order fetches of thousands of bodies would
    // rightly answer 503 (deliver again later), which says nothing about malformed input.
    simulator: () => ({ rateLimit: { perSecond: 100_000, burst: 100_000 } }),
    hub: { pollIntervalMs: 500 },
  });
  const report: FuzzReport = { seed, bodiesPerChannel: options.bodiesPerChannel, covered: [], skipped: [], hubAlive: false };
  try {
    const { hub } = env;
    await hub.publish({ id: 'fuzz:seed', type: 'stock.set', channel: 'manual', occurredAt: new Date().toISOString(), lines: Object.keys(FUZZ_SKUS).map((sku) => ({ sku, quantity: 1_000_000 })) });
    await waitFor('the seed stock', async () => (await hub.ledger.getLevel('FUZZ-A')) !== undefined);
    for (const [n, connector] of connectors.entries()) {
      const channelId = `fz-${connector}`;
      const simulator = env.simulator(channelId);
      if (!simulator.signWebhook) {
        report.skipped.push({ channelId, connector, reason: 'its simulator has no signWebhook' });
        continue;
      }
      if (!simulator.setWebhookTarget || !simulator.placeOrder) {
        report.skipped.push({ channelId, connector, reason: 'its simulator sends no webhooks' });
        continue;
      }
      const base = await captureDelivery(simulator, [{ sku: 'FUZZ-A', qty: 1 }]);
      simulator.setWebhookTarget(`${hub.url}/webhooks/${channelId}`);
      const sinceAuditId = await latestAuditId(hub);
      let accepted = '';
      const sign = simulator.signWebhook.bind(simulator);
      const channelReport = await fuzzChannel({
        hubUrl: hub.url,
        channelId,
        connector,
        base,
        sign: (body, headers) => sign(body, headers),
        // The channel's real delivery first, as in production a channel's first notification comes before any
        // other (it fills caches such as eBay's public keys, which a body that is not JSON never may).
        cases: (function* () {
          yield { index: -1, body: base.body, mutation: 'none: the real delivery' };
          yield* fuzzBodies(base.body, seed * 1_000 + n, options.bodiesPerChannel);
        })(),
        concurrency: options.concurrency,
        onAccepted: (body) => void (accepted += `${body.toString('utf8')}\n`),
      });
      // Whatever was accepted is applied before the ledger is read.
      await waitFor('the fuzzed events applied', () => hub.backlog() === 0, 60_000);
      channelReport.ledgerViolations = await checkLedger(hub, channelId, sinceAuditId, accepted, ['FUZZ-A']);
      report.covered.push(channelReport);
      options.log?.(`${channelId}: ${channelReport.sent} bodies, statuses ${JSON.stringify(channelReport.statuses)}, ${channelReport.failureCount} failures, ${channelReport.ledgerViolations.length} ledger violations`);
    }
    report.hubAlive = await hubStillWorks(env, report);
  } finally {
    await env.stop();
  }
  return report;
}

/** `/healthz` answers and a real order still goes through a fuzzed channel after the fuzz. */
async function hubStillWorks(env: SimulatedHub, report: FuzzReport): Promise<boolean> {
  const health = await fetch(`${env.hub.url}/healthz`).catch(() => undefined);
  if (!health || health.status >= 500) return false;
  const channel = report.covered[0];
  if (!channel) return true;
  const before = (await env.hub.ledger.getLevel('FUZZ-C'))?.available ?? 0;
  await env.simulator(channel.channelId).placeOrder!([{ sku: 'FUZZ-C', qty: 2 }]);
  try {
    await waitFor('a real order after the fuzz', async () => ((await env.hub.ledger.getLevel('FUZZ-C'))?.available ?? 0) === before - 2, 20_000);
    return true;
  } catch {
    return false;
  }
}
