import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as sdk from '../../core/sdk.ts';
import * as internal from '../../core/internal.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)];
  return specs.map((m) => m[1] as string);
}

describe('the public SDK entry', () => {
  it('exports what plugins need: their errors, the catalogue, the predicates, describeError', () => {
    for (const name of [
      'StockrelayError',
      'RetryableError',
      'ThrottledError',
      'RejectedError',
      'WebhookSignatureError',
      'WebhookPayloadError',
      'ErrorCodes',
      'ErrorCatalogue',
      'isStockrelayError',
      'isRetryableError',
      'isThrottledError',
      'isRejectedError',
      'isWebhookSignatureError',
      'isWebhookPayloadError',
      'retryAfterOf',
      'describeError',
      'defineConnector',
      'CONTRACT_VERSION',
    ]) {
      expect(sdk, name).toHaveProperty(name);
    }
  });

  it('does not export the errors only the host raises; the internal entry does', () => {
    for (const name of ['ConfigError', 'UsageError', 'ReplayRefusedError', 'HttpError', 'PluginError', 'EventValidationError', 'PushTimeoutError', 'isPushTimeoutError']) {
      expect(sdk, name).not.toHaveProperty(name);
      expect(internal, name).toHaveProperty(name);
    }
  });

  it('is all connectors import of core: the built-in ones by path to core/sdk.ts, the template as the package', () => {
    const offenders: string[] = [];
    const connectorsDir = join(REPO, 'connectors');
    for (const file of sourceFiles(connectorsDir)) {
      const inTemplate = relative(connectorsDir, file).startsWith('_template');
      for (const spec of importsOf(file)) {
        if (inTemplate) {
          if (spec.startsWith('.') && !spec.startsWith('./')) offenders.push(`${relative(REPO, file)} → ${spec}`);
          continue;
        }
        if (!spec.startsWith('.')) {
          if (spec === 'stockrelay' || spec.startsWith('stockrelay/')) offenders.push(`${relative(REPO, file)} → ${spec} (built-in connectors use relative paths)`);
          continue;
        }
        const target = resolve(file, '..', spec);
        const inCore = relative(join(REPO, 'core'), target);
        if (!inCore.startsWith('..') && inCore !== 'sdk.ts') offenders.push(`${relative(REPO, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('errors made by another copy of the SDK', () => {
  it('are other classes, yet the host classifies them by code', async () => {
    // A second instance of the module, as a plugin installed with its own copy of stockrelay has.
    const secondCopy = new URL('../../core/errors.ts?second-copy', import.meta.url).href;
    const copy = (await import(/* @vite-ignore */ secondCopy)) as typeof import('../../core/errors.ts');
    expect(copy.ThrottledError).not.toBe(sdk.ThrottledError);
    const throttled = new copy.ThrottledError('429', { retryAfterMs: 2500 });
    expect(throttled).not.toBeInstanceOf(sdk.ThrottledError);
    expect(sdk.isThrottledError(throttled)).toBe(true);
    expect(sdk.isRetryableError(throttled)).toBe(true);
    expect(sdk.retryAfterOf(throttled)).toBe(2500);
    expect(sdk.isRejectedError(new copy.RejectedError('no'))).toBe(true);
    expect(sdk.isWebhookSignatureError(new copy.WebhookSignatureError('forged'))).toBe(true);
    expect(sdk.isWebhookPayloadError(new copy.WebhookPayloadError('bad'))).toBe(true);
  });

  it('without a catalogue code are not mistaken for classified ones, whatever their name', () => {
    class ThrottledError extends Error {
      override name = 'ThrottledError';
      retryAfterMs = 1000;
    }
    const err = new ThrottledError('429');
    expect(sdk.isThrottledError(err)).toBe(false);
    expect(sdk.isRetryableError(err)).toBe(false);
    expect(sdk.isStockrelayError(err)).toBe(false);
  });
});
