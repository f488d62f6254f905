import { defineConfig } from "vitest/config";

/**
 * The `ipfs-kit` command line's tests run in Node, not workerd: each runs the
 * built CLI (dist/ipfs-kit.mjs) as a child process, against a `wrangler dev`
 * of the worker with a local upstream (test/cli/global-setup.ts) and against
 * `ipfs-car` for CIDs. `npm test` runs this after the workerd suite.
 */
export default defineConfig({
  test: {
    // test/bench/: the bench's own tools that decide a figure (its load client), in Node too.
    include: ["test/cli/**/*.test.ts", "test/bench/**/*.test.ts"],
    globalSetup: ["./test/cli/global-setup.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 240_000,
    // One wrangler dev for all files; the files share its account, so they run one at a time.
    fileParallelism: false,
  },
});
