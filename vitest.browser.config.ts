import { defineConfig } from "vitest/config";

/**
 * Real-browser tests of the dashboard (docs/dashboard.md "Tests"): run in
 * Node, not workerd. Each spec starts the local upstream servers and a
 * `wrangler dev` of the worker on free ports, and drives Debian's Chromium
 * (/usr/bin/chromium) with `playwright`. Screenshots go to test-artifacts/.
 * `npm run test:browser`; `npm test` runs it after the workerd suite.
 */
export default defineConfig({
  test: {
    include: ["test/browser/**/*.spec.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // One wrangler dev and one Chromium at a time (a shared 2-core machine).
    fileParallelism: false,
  },
});
