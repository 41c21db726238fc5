import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../core/features/alerts/alert-engine.ts';
import { createLogger } from '../../core/logger.ts';
import { HubMetrics } from '../../core/metrics/hub-metrics.ts';
import { formatCount, formatMs, formatNumber, formatPercent, formatRate, NO_VALUE } from '../../core/human-format.ts';

describe('numbers in human text are rounded and carry their unit', () => {
  it('durations take the unit a person would say, with the digits that matter', () => {
    expect(formatMs(7211.927482947421)).toBe('7.21 s');
    expect(formatMs(5000)).toBe('5 s');
    expect(formatMs(731.4)).toBe('731 ms');
    expect(formatMs(7.26)).toBe('7.3 ms');
    expect(formatMs(0.012345)).toBe('0.0123 ms');
    expect(formatMs(0)).toBe('0 ms');
    expect(formatMs(42_460)).toBe('42.5 s');
    expect(formatMs(300_000)).toBe('5 min');
    expect(formatMs(725_000)).toBe('12 min 5 s');
    expect(formatMs(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(formatMs(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
    expect(formatMs(-1500)).toBe('-1.5 s');
  });

  it('a missing figure reads as a dash, never null or NaN', () => {
    for (const f of [formatMs, formatNumber, formatCount, formatPercent, formatRate]) {
      expect(f(null)).toBe(NO_VALUE);
      expect(f(undefined)).toBe(NO_VALUE);
      expect(f(Number.NaN)).toBe(NO_VALUE);
    }
  });

  it('percentages never claim 100 % or 0 % they do not have', () => {
    expect(formatPercent(0.95652)).toBe('95.6 %');
    expect(formatPercent(0.99999)).toBe('99.9 %');
    expect(formatPercent(1)).toBe('100 %');
    expect(formatPercent(0.99)).toBe('99 %');
    expect(formatPercent(0.57)).toBe('57 %');
    expect(formatPercent(0.00002)).toBe('< 0.1 %');
    expect(formatPercent(0)).toBe('0 %');
  });

  it('plain numbers, counts and rates are rounded by size', () => {
    expect(formatNumber(7211.927)).toBe('7,212');
    expect(formatNumber(42.46)).toBe('42.5');
    expect(formatNumber(3.14159)).toBe('3.14');
    expect(formatNumber(0.012345)).toBe('0.0123');
    expect(formatCount(1_234_567.4)).toBe('1,234,567');
    expect(formatRate(12.345)).toBe('12.3/s');
    expect(formatRate(6, 'orders')).toBe('6 orders/s');
  });

  it('no human text it produces carries a long fraction: 2 decimals above 1, 3 significant digits below', () => {
    const longFraction = (text: string): boolean =>
      [...text.matchAll(/(\d+)\.(\d+)/g)].some(([, whole, fraction]) => (whole === '0' ? fraction!.replace(/^0+/, '').length > 3 : fraction!.length > 2));
    const samples = [0.000123456, 0.5, 1.23456789, 9.99999, 99.9999, 999.999, 9999.999, 59_999.9, 3_599_999.9, 1e9 + 0.123];
    for (const value of samples) {
      for (const text of [formatMs(value), formatNumber(value), formatRate(value)]) expect(longFraction(text), `${value} → ${text}`).toBe(false);
      expect(formatPercent(value / 1e9)).toMatch(/^(< )?\d+(\.\d)? %$/);
    }
  });
});

describe('alert texts print rounded figures with units', () => {
  it('a sync-lag and a success-rate alert read as a person would say them', async () => {
    const engine = new AlertEngine({
      settings: { evaluateIntervalMs: 60_000, windowMs: 300_000, syncLagP99Ms: 5000, minSuccessRate: 0.99, oversell: true, deadLetterDepth: 2, backlog: 50 },
      channels: ['web'],
      snapshot: () => undefined,
      probes: { deadLetters: async () => new Map(), backlog: async () => 0 },
      metrics: new HubMetrics(),
      logger: createLogger({}, 'silent'),
    });
    try {
      engine.confirmed('web', 'SKU-1', [7211.927482947421]);
      for (let i = 0; i < 22; i++) engine.attempted('web', true);
      engine.attempted('web', false);
      await engine.evaluate();
      const messages = engine.list().map((a) => a.message);
      expect(messages).toContain('channel "web": sync lag p99 over the last 5 min is 7.21 s, above 5 s');
      expect(messages).toContain('channel "web": 22 of 23 pushes succeeded over the last 5 min (95.6 %), below 99 %');
    } finally {
      await engine.stop();
    }
  });
});

describe('the dashboard formats by the same rules', () => {
  const source = new URL('../../core/human-format.ts', import.meta.url);
  const copy = new URL('../../core/features/dashboard/static/human-format.js', import.meta.url);

  it('its human-format.js is core/human-format.ts compiled, with nothing changed by hand', () => {
    const compiled = ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
    const served = readFileSync(copy, 'utf8').split('\n').filter((line, i) => !(i < 2 && line.startsWith('//'))).join('\n');
    expect(served, 'regenerate core/features/dashboard/static/human-format.js from core/human-format.ts with ts.transpileModule (ES2022 target and modules)').toBe(compiled);
  });

  it('and the copy the page loads says a figure as the alerts do', async () => {
    const page = (await import(copy.href)) as typeof import('../../core/human-format.ts');
    for (const value of [0.0123, 7.26, 731.4, 7211.927482947421, 725_000]) expect(page.formatMs(value)).toBe(formatMs(value));
    expect(page.formatPercent(0.95652)).toBe(formatPercent(0.95652));
  });
});
