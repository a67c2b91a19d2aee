import { defineConfig } from 'vitest/config';

// One config for Vite (the web app, added with the client) and Vitest.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Integration tests start real servers on port 0; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Builds the web app for the browser tests once, before the test files start (test/support/webAppGlobalSetup.ts).
    globalSetup: ['./test/support/webAppGlobalSetup.ts'],
    reporters: ['default', './test/support/plainSummaryReporter.ts'],
  },
});
