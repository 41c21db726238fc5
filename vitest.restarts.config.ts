import { defineConfig } from 'vitest/config';
import { checkoutSources } from './test/support/checkout-sources-plugin.ts';

// Tests that stop and start the machine's NATS and PostgreSQL: one file at a time, after the main suite,
// so no other test is talking to a server while it is down.
export default defineConfig({
  plugins: [checkoutSources()],
  test: {
    include: ['test/restarts/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
