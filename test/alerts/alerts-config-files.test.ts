import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { Hub } from '../../core/hub.ts';
import { setupTestHub, startHub, type TestHubSetup } from '../support/test-hub.ts';

const RULES = fileURLToPath(new URL('../../config/prometheus-rules.yml', import.meta.url));
const DASHBOARD = fileURLToPath(new URL('../../config/grafana-dashboard.json', import.meta.url));
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((path) => existsSync(path));

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The rules file is YAML in JSON flow style after its comment header: drop the comments, parse the JSON. */
async function readRules(): Promise<{ groups: Array<{ name: string; rules: Rule[] }> }> {
  const text = await readFile(RULES, 'utf8');
  return JSON.parse(text.split('\n').filter((line) => !line.startsWith('#')).join('\n'));
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/** Metric names an expression reads: identifiers left once strings, label matchers, ranges, groupings and calls are gone. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(match.index + match[0].length).trimStart();
    if (after.startsWith('(') || PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

describe('the Prometheus rules and Grafana dashboard in config/ use the names /metrics exports', () => {
  let setup: TestHubSetup;
  let hub: Hub;
  /** Every series name the hub can export: counters and gauges as named, histograms with their suffixes. */
  const exported = new Set<string>();

  beforeAll(async () => {
    setup = await setupTestHub({ channels: [{ id: 'web' }] });
    hub = await startHub(setup);
    const text = await (await request(`${hub.url}/metrics`)).body.text();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name}${suffix}`);
      else exported.add(name!);
    }
  });
  afterAll(async () => {
    await hub?.stop();
    await setup?.cleanup();
  });

  it('finds metric names in PromQL, and only metric names', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (channel, le) (rate(sync_lag_ms_bucket{channel=~"$channel"}[$__rate_interval]))) > 5000')).toEqual(['sync_lag_ms_bucket']);
    expect(metricNames('sum by (channel) (rate(a_total[5m])) / sum by (channel) (rate(b_total[5m])) < 0.99')).toEqual(['a_total', 'b_total']);
  });

  it('has the article\'s alarms as rules, each with a severity and a summary', async () => {
    const rules = (await readRules()).groups.flatMap((g) => g.rules);
    const exprs = rules.map((r) => r.expr ?? '');
    expect(exprs.some((e) => e.includes('histogram_quantile(0.99') && e.includes('sync_lag_ms_bucket') && e.endsWith('> 5000'))).toBe(true);
    expect(exprs).toContain('increase(oversell_detected_total[5m]) > 0');
    expect(exprs.some((e) => e.includes('push_items_succeeded_total') && e.includes('push_items_attempted_total') && e.endsWith('< 0.99'))).toBe(true);
    expect(exprs.some((e) => e.includes('dead_letter'))).toBe(true);
    expect(exprs.some((e) => e.includes('consumer_backlog'))).toBe(true);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
  });

  it('reads only metrics the hub exports in its alerting rules', async () => {
    const rules = (await readRules()).groups.flatMap((g) => g.rules);
    const used = new Set(rules.flatMap((r) => metricNames(r.expr ?? '')));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it.runIf(PROMTOOL !== undefined)('passes promtool check rules', async () => {
    const { stdout } = await promisify(execFile)(PROMTOOL!, ['check', 'rules', RULES]);
    expect(stdout).toContain('SUCCESS');
  });

  it('is a dashboard whose every panel query reads metrics the hub exports', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { uid: string; panels: Array<{ type: string; title: string; targets?: Array<{ expr: string; refId: string }> }> };
    expect(dashboard.uid).toBeTruthy();
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThanOrEqual(7);
    const used = new Set<string>();
    for (const panel of graphs) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) for (const name of metricNames(target.expr)) used.add(name);
    }
    for (const needed of ['sync_lag_ms_bucket', 'oversell_detected_total', 'push_items_succeeded_total', 'channel_throttled_total', 'dead_letters_total', 'consumer_backlog', 'ledger_batch_ms_bucket']) {
      expect(used, needed).toContain(needed);
    }
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });
});
