import { defineConfig } from 'vitest/config';
import { checkoutSources } from './test/support/checkout-sources-plugin.ts';

export default defineConfig({
  plugins: [checkoutSources()],
  test: {
    include: ['test/**/*.test.ts'],
    // Server restarts run alone, after this suite: see vitest.restarts.config.ts.
    exclude: ['test/restarts/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers only fight each other and the servers under test.
    maxWorkers: 2,
  },
});
