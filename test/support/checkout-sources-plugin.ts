import type { Plugin } from 'vitest/config';
import { checkoutSourceFor } from '../../bin/checkout-sources.mjs';

/**
 * Tests run on the sources: `stockrelay` imported by a module of this checkout (the connector template) or
 * by a project linking it resolves to the sources, as it does for the bin in a checkout. A copy installed
 * from a tarball is left to ordinary resolution, so it stays a copy of its own.
 */
export function checkoutSources(): Plugin {
  return {
    name: 'stockrelay-checkout-sources',
    enforce: 'pre',
    resolveId(source, importer) {
      if (importer === undefined || !source.startsWith('stockrelay')) return null;
      return checkoutSourceFor(source, importer.split('?')[0] ?? importer) ?? null;
    },
  };
}
