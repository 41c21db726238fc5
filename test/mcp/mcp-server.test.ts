import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { validateConfigObject } from '../../core/config/validate-config.ts';
import type { Hub } from '../../core/hub.ts';
import { MCP_TOOLS } from '../../core/features/mcp/mcp-server.ts';
import { setupTestHub, startHub, waitFor, type TestHubSetup } from '../support/test-hub.ts';

const READ = 'mcp-read-token-0123456789';
const METRICS = 'mcp-metrics-token-0123456789';
const BIN = fileURLToPath(new URL('../../bin/stockrelay.mjs', import.meta.url));
const now = () => new Date().toISOString();

interface StockAnswer {
  items: Array<{ sku: string; known: boolean; available: number; version: number; channels: Array<{ channel: string; shown: number | null; target: number; state: string; confidence: number }>; summary: { confidence: number } }>;
}

/** Both transports must answer the same tools the same way: one specification, run over each. */
function toolSpecification(transport: 'stdio' | 'http', client: () => Client) {
  const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => (await client().callTool({ name, arguments: args })) as CallToolResult;
  const text = (result: CallToolResult): string => result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

  it(`${transport}: initialize names the server and its tool capability`, () => {
    expect(client().getServerVersion()?.name).toBe('stockrelay');
    expect(client().getServerCapabilities()?.tools).toBeDefined();
  });

  it(`${transport}: tools/list offers every tool, read-only, with input and output schemas`, async () => {
    const { tools } = await client().listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...MCP_TOOLS].sort());
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.annotations?.readOnlyHint).toBe(true);
    }
    const stock = tools.find((t) => t.name === 'stock')!;
    expect(stock.inputSchema.required).toEqual(['skus']);
  });

  it(`${transport}: stock answers the ledger quantity and each channel's shown quantity, freshness and confidence`, async () => {
    const result = await call('stock', { skus: ['MCP-A', 'MCP-NONE'] });
    expect(result.isError).toBeFalsy();
    const answer = result.structuredContent as unknown as StockAnswer;
    const [known, unknown] = answer.items;
    expect(known).toMatchObject({ sku: 'MCP-A', known: true, available: 7 });
    expect(known!.channels.map((c) => [c.channel, c.shown, c.target, c.state, c.confidence])).toEqual([
      ['web', 7, 7, 'in_sync', 1],
      ['market', 5, 5, 'in_sync', 1],
    ]);
    expect(known!.summary.confidence).toBe(1);
    expect(unknown).toMatchObject({ sku: 'MCP-NONE', known: false });
    expect(text(result)).toContain('MCP-A: 7 available');
    expect(text(result)).toContain('MCP-NONE: unknown to the ledger');
  });

  it(`${transport}: a bad argument is a tool error naming the field`, async () => {
    const empty = await call('stock', { skus: [] });
    expect(empty.isError).toBe(true);
    expect(text(empty)).toMatch(/skus/);
    const limit = await call('why_channel_quantity', { channel: 'web', sku: 'MCP-A', limit: 0 });
    expect(limit.isError).toBe(true);
    expect(text(limit)).toMatch(/limit/);
    const channel = await call('why_channel_quantity', { channel: 'nowhere', sku: 'MCP-A' });
    expect(channel.isError).toBe(true);
    expect(text(channel)).toMatch(/^channel: no channel "nowhere".*channels: web, market/);
  });

  it(`${transport}: why_channel_quantity explains the shown quantity with the rule and the chain`, async () => {
    const result = await call('why_channel_quantity', { channel: 'market', sku: 'MCP-A' });
    expect(result.isError).toBeFalsy();
    const report = result.structuredContent as { state: string; confirmed: { quantity: number }; derivation: { formula: string }; chain: Array<{ eventType: string }> };
    expect(report.state).toBe('in-sync');
    expect(report.confirmed.quantity).toBe(5);
    expect(report.derivation.formula).toBe('max(0, 7 − 2) = 5');
    expect(report.chain.map((s) => s.eventType)).toEqual(['stock.set', 'order.confirmed']);
    expect(text(result)).toContain('shows 5');
  });

  it(`${transport}: recent_oversells lists the order that asked for more than the ledger had`, async () => {
    const result = await call('recent_oversells', { sku: 'MCP-B' });
    expect(result.structuredContent).toMatchObject({ unitsOversold: 3, oversells: [{ sku: 'MCP-B', channel: 'web', requested: 5, availableBefore: 2, shortfall: 3 }] });
    const other = await call('recent_oversells', { channel: 'market' });
    expect(other.structuredContent).toMatchObject({ oversells: [], unitsOversold: 0 });
  });

  it(`${transport}: channel_health gives every channel's stored progress and the hub's live figures`, async () => {
    const result = await call('channel_health', {});
    const { channels } = result.structuredContent as { channels: Array<{ channel: string; stored: { skusBehind: number; lastConfirmedAt: string | null }; live: { pending: number } | null }> };
    expect(channels.map((c) => c.channel)).toEqual(['web', 'market']);
    for (const c of channels) {
      expect(c.stored.skusBehind).toBe(0);
      expect(c.stored.lastConfirmedAt).not.toBeNull();
      expect(c.live).toMatchObject({ pending: 0 });
    }
  });

  it(`${transport}: alerts lists the oversell alert the hub is firing`, async () => {
    const result = await call('alerts', {});
    expect(result.isError).toBeFalsy();
    const { alerts, firing } = result.structuredContent as { firing: number; alerts: Array<{ id: string; firing: boolean }> };
    expect(firing).toBeGreaterThanOrEqual(1);
    expect(alerts.every((a) => a.firing)).toBe(true);
    expect(alerts.map((a) => a.id)).toContain('oversell:web');
  });
}

describe('the MCP server', () => {
  let setup: TestHubSetup;
  let hub: Hub;
  let dir: string;
  let configFile: string;

  beforeAll(async () => {
    const base = await setupTestHub({ channels: [{ id: 'web' }, { id: 'market', rules: { reserve: 2 } }] });
    const config = {
      ...base.config,
      http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'agent', token: READ, scope: 'read' }, { name: 'scraper', token: METRICS, scope: 'metrics' }] },
      alerts: { evaluateIntervalMs: 200 },
    };
    const result = validateConfigObject(config);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    setup = { ...base, config, loaded: result.loaded };
    dir = await mkdtemp(join(tmpdir(), 'sr-mcp-'));
    configFile = join(dir, 'stockrelay.json');
    await writeFile(configFile, JSON.stringify(config));
    hub = await startHub(setup);

    const events = [
      { id: 'mcp:count', type: 'stock.set', channel: 'manual', occurredAt: now(), lines: [{ sku: 'MCP-A', quantity: 10 }, { sku: 'MCP-B', quantity: 2 }] },
      { id: 'web:order:mcp-1:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'MCP-A', qty: 3 }] },
      { id: 'web:order:mcp-2:confirmed', type: 'order.confirmed', channel: 'web', occurredAt: now(), lines: [{ sku: 'MCP-B', qty: 5 }] },
    ] as const;
    for (const event of events) {
      await hub.publish(event as never);
      await waitFor(`${event.id} to be applied`, () => hub.ledger.isProcessed(event.id));
    }
    await hub.idle();
    await waitFor('the oversell alert', async () => {
      const res = await request(`${hub.url}/v1/alerts`, { headers: { authorization: `Bearer ${READ}` } });
      const body = (await res.body.json()) as { alerts: Array<{ id: string; firing: boolean }> };
      return body.alerts.some((a) => a.id === 'oversell:web' && a.firing);
    });
  });
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('over stdio (stockrelay mcp)', () => {
    let client: Client;
    let stderr = '';
    beforeAll(async () => {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp', '--config', configFile, '--hub', hub.url],
        env: { ...(process.env as Record<string, string>), STOCKRELAY_LOG: 'warn' },
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      client = new Client({ name: 'stockrelay-test', version: '1.0.0' });
      await client.connect(transport);
    }, 180_000);
    afterAll(async () => {
      await client?.close();
    });

    toolSpecification('stdio', () => client);

    // A second server process: its start (TypeScript compiled on load) is slow on a busy machine.
    it('stdio: without a hub to ask, alerts is a tool error that says how to get one', { timeout: 180_000 }, async () => {
      const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--config', configFile, '--hub', 'http://127.0.0.1:9'], stderr: 'pipe' });
      const alone = new Client({ name: 'stockrelay-test', version: '1.0.0' });
      await alone.connect(transport);
      try {
        const alerts = (await alone.callTool({ name: 'alerts', arguments: {} })) as CallToolResult;
        expect(alerts.isError).toBe(true);
        expect(alerts.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('none answered at http://127.0.0.1:9') });
        // The ledger's answers need no hub.
        const stock = (await alone.callTool({ name: 'stock', arguments: { skus: ['MCP-A'] } })) as CallToolResult;
        expect(stock.structuredContent).toMatchObject({ items: [{ sku: 'MCP-A', available: 7 }] });
        const health = (await alone.callTool({ name: 'channel_health', arguments: { channel: 'web' } })) as CallToolResult;
        expect(health.structuredContent).toMatchObject({ channels: [{ channel: 'web', live: null }], liveUnavailable: expect.stringContaining('none answered') });
      } finally {
        await alone.close();
      }
    });

    it('stdio: writes nothing but the protocol to stdout, and never the read token anywhere', () => {
      // A stray line on stdout would have broken every call above; stderr is the place for the rest.
      expect(stderr).toContain('stockrelay MCP server on stdio');
      expect(stderr).not.toContain(READ);
    });
  });

  describe('over Streamable HTTP on the hub (/mcp)', () => {
    let client: Client;
    beforeAll(async () => {
      client = new Client({ name: 'stockrelay-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', hub.url), { requestInit: { headers: { authorization: `Bearer ${READ}` } } }));
    });
    afterAll(async () => {
      await client?.close();
    });

    toolSpecification('http', () => client);

    it('http: refuses a client without a token with 401, and one with a wrong token too', async () => {
      for (const headers of [{}, { authorization: 'Bearer not-a-configured-token' }] as Array<Record<string, string>>) {
        const refused = new Client({ name: 'stockrelay-test', version: '1.0.0' });
        const error = await refused.connect(new StreamableHTTPClientTransport(new URL('/mcp', hub.url), { requestInit: { headers } })).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(StreamableHTTPError);
        expect((error as StreamableHTTPError).code).toBe(401);
        await refused.close();
      }
      // The token is checked before the body is read: not even a broken body gets past without one.
      const raw = await request(`${hub.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
      expect(raw.statusCode).toBe(401);
      expect(raw.headers['www-authenticate']).toContain('Bearer');
      await raw.body.dump();
    });

    it('http: refuses a token of another scope with 403, and answers GET with 405 (no session, no stream)', async () => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      const metrics = await request(`${hub.url}/mcp`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${METRICS}` }, body });
      expect(metrics.statusCode).toBe(403);
      await metrics.body.dump();
      const get = await request(`${hub.url}/mcp`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${READ}` } });
      expect(get.statusCode).toBe(405);
      expect(get.headers.allow).toBe('POST');
      await get.body.dump();
    });
  });
});

describe('the mcp command line', () => {
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, (l) => out.push(l), (l) => err.push(l));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('is listed by stockrelay --help', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^ {2}stockrelay mcp --config <file> \[--hub <url>\] +MCP server on stdio/m);
  });

  it('names the missing --config and a malformed --hub', async () => {
    expect(await run(['mcp'])).toMatchObject({ code: 1, err: expect.stringContaining('--config <file> is required') });
    expect(await run(['mcp', '--config', 'x.json', '--hub', 'not a url'])).toMatchObject({ code: 1, err: expect.stringContaining('--hub must be a URL') });
  });
});
