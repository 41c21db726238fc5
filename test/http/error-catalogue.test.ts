import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as sdk from '../../core/sdk.ts';
import * as internal from '../../core/internal.ts';
import { ErrorCatalogue, ErrorCodes, formatErrorMessage, type ErrorCode } from '../../core/errors.ts';
import { ERROR_BODY_SCHEMA, errorBody } from '../../core/http/error-body.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const entries = Object.entries(ErrorCatalogue);

/** The rows of the README's "Error codes" table: code → HTTP status. */
function readmeCodes(): Map<string, number> {
  const section = README.split(/^### Error codes$/m)[1]?.split(/^#{2,3} /m)[0] ?? '';
  const rows = [...section.matchAll(/^\| `(SR_[A-Z0-9_]+)` \| (\d{3}) \|/gm)];
  return new Map(rows.map((m) => [m[1] as string, Number(m[2])]));
}

describe('the error catalogue', () => {
  it('holds for each name one code (SR_<name>), an HTTP error status and a message template', () => {
    for (const [name, entry] of entries) {
      expect(entry.code, name).toBe(`SR_${name}`);
      expect(STATUS_CODES[entry.status], `${name} status`).toBeDefined();
      expect(entry.status, name).toBeGreaterThanOrEqual(400);
      expect(entry.message.length, name).toBeGreaterThan(0);
    }
    expect(new Set(entries.map(([, e]) => e.code)).size).toBe(entries.length);
  });

  it('is what ErrorCodes and the ErrorCode type are made of', () => {
    expect(Object.keys(ErrorCodes)).toEqual(Object.keys(ErrorCatalogue));
    for (const [name, entry] of entries) expect(ErrorCodes[name as keyof typeof ErrorCodes]).toBe(entry.code);
    expectTypeOf<ErrorCode>().toEqualTypeOf<(typeof ErrorCatalogue)[keyof typeof ErrorCatalogue]['code']>();
    expectTypeOf(ErrorCodes.DEAD_LETTER_NOT_FOUND).toEqualTypeOf<'SR_DEAD_LETTER_NOT_FOUND'>();
  });

  it('is listed in the README, every code with its HTTP status, and nothing else', () => {
    const listed = readmeCodes();
    expect([...listed.keys()].sort()).toEqual(entries.map(([, e]) => e.code).sort());
    for (const [, entry] of entries) expect(listed.get(entry.code), entry.code).toBe(entry.status);
  });

  it('is what the error body schema allows as a code', () => {
    expect([...ERROR_BODY_SCHEMA.properties.code.enum].sort()).toEqual(entries.map(([, e]) => e.code).sort());
  });

  it('fills message templates in order and gives bodies their status and reason phrase', () => {
    expect(formatErrorMessage(ErrorCodes.SKU_NOT_FOUND, ['web', 'A-1'])).toBe('neither the ledger nor channel "web" knows SKU "A-1"');
    expect(errorBody(ErrorCodes.DEAD_LETTER_NOT_FOUND, 'no dead letter #7')).toEqual({ statusCode: 404, code: 'SR_DEAD_LETTER_NOT_FOUND', error: 'Not Found', message: 'no dead letter #7' });
  });

  it('gives every error class, public and host-only, a catalogue code and that code\'s status', () => {
    const made = [
      new sdk.RetryableError('x'),
      new sdk.ThrottledError('x'),
      new sdk.RejectedError('x'),
      new sdk.WebhookSignatureError('x'),
      new sdk.WebhookPayloadError('x'),
      new internal.ConfigError('x'),
      new internal.UsageError('x'),
      new internal.ReplayRefusedError('x'),
      new internal.PluginError(ErrorCodes.PLUGIN_CREATE, 'web', 'x'),
      new internal.EventValidationError('x'),
      new internal.PushTimeoutError(10),
      new internal.HttpError(ErrorCodes.CHANNEL_NOT_FOUND, ['web']),
    ];
    for (const err of made) {
      expect(sdk.isStockrelayError(err), err.name).toBe(true);
      const entry = entries.find(([, e]) => e.code === err.code)?.[1];
      expect(entry, err.name).toBeDefined();
      expect(err.statusCode, err.name).toBe(entry!.status);
    }
    expect(new internal.HttpError(ErrorCodes.CHANNEL_NOT_FOUND, ['web']).message).toBe('no channel "web" in the config');
    expect(new internal.UsageError('x').code).toBe('SR_USAGE');
    expect(new internal.ReplayRefusedError('x').statusCode).toBe(409);
  });
});
