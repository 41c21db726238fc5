import { describe, expect, it } from 'vitest';
import { validateConfigObject } from '../../core/config/validate-config.ts';

const channel = (rules: unknown): unknown => ({ channels: [{ id: 'shop', connector: 'sandbox', rules }] });

describe('rules.forecast', () => {
  it('is filled from the schema when left out, with every bound set', () => {
    const result = validateConfigObject(channel({}));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const forecast = result.loaded.config.channels[0]!.rules.forecast!;
    expect(Object.keys(forecast).sort()).toEqual(['confidence', 'enabled', 'maxHiddenShare', 'maxHorizonMs', 'minHorizonMs']);
    expect(forecast.confidence).toBe(0.5);
    expect(forecast.maxHiddenShare).toBeGreaterThan(0);
    expect(forecast.maxHiddenShare).toBeLessThanOrEqual(1);
    expect(forecast.maxHorizonMs).toBeGreaterThanOrEqual(forecast.minHorizonMs);
  });

  it('keeps what the config sets', () => {
    const result = validateConfigObject(channel({ forecast: { enabled: true, maxHiddenShare: 0.3, confidence: 0.99, minHorizonMs: 500, maxHorizonMs: 20_000 } }));
    expect(result.ok && result.loaded.config.channels[0]!.rules.forecast).toEqual({ enabled: true, maxHiddenShare: 0.3, confidence: 0.99, minHorizonMs: 500, maxHorizonMs: 20_000 });
  });

  it('refuses wrong values with an error naming each field', () => {
    const result = validateConfigObject(channel({ forecast: { enabled: 'yes', maxHiddenShare: 1.5, confidence: 1, minHorizonMs: -1, maxHorizonMs: 2.5, horizon: 3 } }));
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path);
    for (const field of ['enabled', 'maxHiddenShare', 'confidence', 'minHorizonMs', 'maxHorizonMs']) expect(paths).toContain(`/channels/0/rules/forecast/${field}`);
    expect(result.ok ? [] : result.problems.map((p) => `${p.path} ${p.message}`).join('\n')).toMatch(/horizon/);
  });

  it('refuses a longest horizon below the shortest', () => {
    const result = validateConfigObject(channel({ forecast: { minHorizonMs: 5_000, maxHorizonMs: 1_000 } }));
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toContainEqual({ path: '/channels/0/rules/forecast/maxHorizonMs', message: 'must not be below minHorizonMs (5000)' });
  });
});
