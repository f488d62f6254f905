/**
 * Builds the `ipfs-kit` command (src/cli/main.ts) into dist/ipfs-kit.mjs,
 * one ES module that runs on Node 20 and newer. Dependencies stay imports
 * of node_modules (they are the package's own dependencies). Run by
 * `npm install` (the `prepare` script) and by the CLI tests.
 */
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/ipfs-kit.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
