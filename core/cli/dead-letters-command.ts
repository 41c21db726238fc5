import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { NatsBus } from '../bus/nats-bus.ts';
import type { DeadLetterPage, DeadLetterRecord, ListDeadLettersOptions, ReplayResult } from '../features/admin/dead-letters.ts';
import { DeadLetters } from '../features/admin/dead-letters.ts';
import type { LoadedConfig } from '../config/config-types.ts';
import { loadConfig } from '../config/load-config.ts';
import { ErrorCodes, errorDefinition, StockrelayError, UsageError, type ErrorCode } from '../internal.ts';
import { withLedger } from './with-ledger.ts';

type Out = (line: string) => void;

export const DEAD_LETTERS_USAGE = `usage: stockrelay dead-letters <list|show|replay|discard> --config <file> [options]
  list [--kind event|push] [--channel <id>] [--after <seq>] [--limit <n>] [--json]
  show <seq> [--json]
  replay <seq> [--payload <event.json>|-]   an event goes back through validation and the ledger (applied once);
                                           a push needs the running hub (--hub), which pushes the ledger's current quantity
  discard <seq>
  --hub <url> [--token <admin token>]      go through a running hub's admin API (token also from STOCKRELAY_ADMIN_TOKEN)`;

/** The operations, whether they run against NATS directly or through a hub's admin API. */
interface DeadLetterClient {
  list(options: ListDeadLettersOptions): Promise<DeadLetterPage>;
  get(seq: number): Promise<DeadLetterRecord | undefined>;
  replay(seq: number, payload: unknown): Promise<ReplayResult | undefined>;
  discard(seq: number): Promise<boolean>;
}

/**
 * `stockrelay dead-letters ...`. Without `--hub` it works on the dead-letter stream directly (NATS and,
 * for replays, Postgres from the config), so events can be inspected and replayed while no hub runs;
 * push letters can only be replayed by a hub, which owns the channel's dispatcher.
 * Exit codes: 0 done, 3 no such letter, 1 anything else.
 */
export async function runDeadLetters(args: readonly string[], out: Out): Promise<number> {
  const [verb, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      kind: { type: 'string' },
      channel: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
      payload: { type: 'string' },
      hub: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (!verb || !['list', 'show', 'replay', 'discard'].includes(verb)) throw new UsageError(DEAD_LETTERS_USAGE);
  const seq = verb === 'list' ? 0 : wholeNumber(positionals[0], 'seq', 1);
  const payload = values.payload === undefined ? undefined : await readPayload(values.payload);
  const run = async (client: DeadLetterClient): Promise<number> => {
    switch (verb) {
      case 'list': {
        if (values.kind !== undefined && values.kind !== 'event' && values.kind !== 'push') throw new UsageError('--kind must be event or push');
        const options: ListDeadLettersOptions = {};
        if (values.kind) options.kind = values.kind as 'event' | 'push';
        if (values.channel) options.channel = values.channel;
        if (values.after !== undefined) options.after = wholeNumber(values.after, '--after', 0);
        if (values.limit !== undefined) options.limit = wholeNumber(values.limit, '--limit', 1);
        const page = await client.list(options);
        out(values.json ? JSON.stringify(page, null, 2) : formatPage(page));
        return 0;
      }
      case 'show': {
        const letter = await client.get(seq);
        if (!letter) return missing(seq, out);
        out(values.json ? JSON.stringify(letter, null, 2) : formatLetter(letter));
        return 0;
      }
      case 'replay': {
        const result = await client.replay(seq, payload);
        if (!result) return missing(seq, out);
        out(values.json ? JSON.stringify(result, null, 2) : formatReplay(result));
        return 0;
      }
      default: {
        if (!(await client.discard(seq))) return missing(seq, out);
        out(values.json ? JSON.stringify({ seq, discarded: true }) : `dead letter #${seq} discarded`);
        return 0;
      }
    }
  };
  if (values.hub) return run(hubClient(values.hub, values.token ?? process.env.STOCKRELAY_ADMIN_TOKEN));
  if (!values.config) throw new UsageError(`--config <file> is required (or --hub <url>)\n${DEAD_LETTERS_USAGE}`);
  return withDirectClient(await loadConfig(values.config), verb === 'replay', run);
}

async function withDirectClient<T>(loaded: LoadedConfig, needsLedger: boolean, run: (client: DeadLetterClient) => Promise<T>): Promise<T> {
  const bus = await NatsBus.connect(loaded.config.nats, 'stockrelay-cli');
  try {
    await bus.ensureTopology();
    const direct = (isProcessed: (id: string) => Promise<boolean>): DeadLetterClient => {
      const letters = new DeadLetters({ bus, isProcessed });
      return {
        list: (options) => letters.list(options),
        get: (seq) => letters.get(seq),
        replay: (seq, payload) => letters.replay(seq, payload === undefined ? {} : { payload }),
        discard: (seq) => letters.discard(seq),
      };
    };
    if (!needsLedger) return await run(direct(async () => false));
    return await withLedger(loaded, ({ ledger }) => run(direct((id) => ledger.isProcessed(id))));
  } finally {
    await bus.close();
  }
}

function hubClient(base: string, token: string | undefined): DeadLetterClient {
  if (!token) throw new UsageError('--hub needs an admin token: --token <token> or STOCKRELAY_ADMIN_TOKEN');
  const call = async <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T | undefined> => {
    const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
    const res = await request(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      let answer: { code?: unknown; message?: unknown } = {};
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        // not JSON: show it as it came
      }
      const code = typeof answer.code === 'string' && errorDefinition(answer.code) ? (answer.code as ErrorCode) : undefined;
      if (code === ErrorCodes.ROUTE_NOT_FOUND) throw new StockrelayError(code, `${base} has no dead-letter API`);
      // Any other 404 is the letter's: it is not there (hubs before the error catalogue said `not_found`).
      if (res.statusCode === 404) return undefined;
      const message = typeof answer.message === 'string' ? answer.message : text;
      throw new StockrelayError(code ?? ErrorCodes.INTERNAL, `hub answered ${res.statusCode}: ${message}`);
    }
    return JSON.parse(text) as T;
  };
  return {
    list: async (options) => {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(options)) if (value !== undefined) query.set(key, String(value));
      const page = await call<DeadLetterPage>('GET', `v1/dead-letters?${query}`);
      if (!page) throw new StockrelayError(ErrorCodes.ROUTE_NOT_FOUND, `${base} has no dead-letter API`);
      return page;
    },
    get: (seq) => call<DeadLetterRecord>('GET', `v1/dead-letters/${seq}`),
    replay: (seq, payload) => call<ReplayResult>('POST', `v1/dead-letters/${seq}/replay`, payload === undefined ? {} : { payload }),
    discard: async (seq) => (await call<{ discarded: boolean }>('DELETE', `v1/dead-letters/${seq}`)) !== undefined,
  };
}

function wholeNumber(raw: string | undefined, name: string, min: number): number {
  const value = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) throw new UsageError(`${name} must be a whole number >= ${min}\n${DEAD_LETTERS_USAGE}`);
  return value;
}

async function readPayload(source: string): Promise<unknown> {
  let text: string;
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    text = await readFile(source, 'utf8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--payload ${source}: not JSON (${(err as Error).message})`);
  }
}

function missing(seq: number, out: Out): number {
  out(`no dead letter #${seq}`);
  return 3;
}

function formatPage(page: DeadLetterPage): string {
  if (page.letters.length === 0) return 'no dead letters';
  const rows = page.letters.map((l) => [
    `#${l.seq}`,
    l.storedAt,
    l.kind,
    l.channelId ?? '-',
    (l.kind === 'push' ? l.sku : l.eventId) ?? '-',
    l.reason.length > 100 ? `${l.reason.slice(0, 99)}…` : l.reason,
  ]);
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const lines = rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  '));
  const total = page.total === null ? '' : ` of ${page.total}`;
  lines.push('', `${page.letters.length}${total} shown${page.next !== null ? `; next page: --after ${page.next}` : ''}`);
  return lines.join('\n');
}

function formatLetter(l: DeadLetterRecord): string {
  const lines = [`dead letter #${l.seq} (${l.kind}) on ${l.subject}`, `stored ${l.storedAt}, given up ${l.at}`, `reason: ${l.reason}`];
  if (l.kind === 'push') {
    const { quantity, version, attempts } = l.letter;
    lines.push(`channel ${l.channelId}, SKU ${l.sku}: quantity ${String(quantity)} of ledger version ${String(version)}, ${String(attempts)} attempt(s)`);
    lines.push('replay pushes the ledger\'s current quantity, not this one');
  } else {
    lines.push(`event id: ${l.eventId ?? '(none readable)'}${l.channelId ? `, from channel ${l.channelId}` : ''}`);
    lines.push('payload:', typeof l.letter.payload === 'string' ? l.letter.payload : JSON.stringify(l.letter.payload, null, 2));
  }
  return lines.join('\n');
}

function formatReplay(r: ReplayResult): string {
  if (r.kind === 'push') {
    return r.outcome === 'requeued'
      ? `dead letter #${r.seq} replayed: ${r.channelId} will be pushed the ledger's current quantity of ${r.sku}; letter deleted`
      : `dead letter #${r.seq}: ${r.channelId} already shows the ledger's current quantity of ${r.sku}; letter deleted`;
  }
  if (r.outcome === 'already-applied') return `dead letter #${r.seq}: event ${r.eventId} was already applied to the ledger; nothing published; letter deleted`;
  return `dead letter #${r.seq} replayed: published to ${r.subject} as ${r.msgId}${r.streamSeq !== null ? ` (#${r.streamSeq})` : ''}; letter deleted. If it is still invalid it is dead-lettered again with the reason`;
}
