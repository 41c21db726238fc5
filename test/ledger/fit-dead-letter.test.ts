import { describe, expect, it } from 'vitest';
import { fitDeadLetter } from '../../core/bus/fit-dead-letter.ts';

describe('fitDeadLetter', () => {
  it('keeps a letter that fits as it is', () => {
    const letter = { kind: 'event' as const, reason: 'bad', payload: { id: 'x' }, at: '2026-12-02T00:00:00Z' };
    expect(JSON.parse(fitDeadLetter(letter, 10_000))).toEqual(letter);
  });

  it.each([
    ['plain text', 'x'.repeat(50_000)],
    ['characters JSON escapes to six bytes', '\u0001'.repeat(50_000)],
    ['characters outside the BMP', '😀'.repeat(50_000)],
  ])('cuts a payload of %s to fit, within the limit and still valid JSON', (_what, text) => {
    const letter = { kind: 'event' as const, reason: 'r'.repeat(20_000), payload: text, stream: 'IN', streamSequence: 42, at: '2026-12-02T00:00:00Z' };
    const fitted = fitDeadLetter(letter, 16_384);
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(16_384);
    const parsed = JSON.parse(fitted) as Record<string, unknown>;
    expect(parsed).toMatchObject({ payloadTruncated: true, payloadBytes: Buffer.byteLength(text), stream: 'IN', streamSequence: 42 });
    expect(text.startsWith(parsed.payloadHead as string)).toBe(true);
    expect((parsed.payloadHead as string).length).toBeGreaterThan(0);
    expect((parsed.reason as string).length).toBeLessThan(5_000);
  });
});
