/**
 * Builds the Worker (src/worker.ts) into dist/worker/: an entry module and
 * the chunks esbuild splits off at every dynamic `import()`. wrangler
 * uploads them as separate modules (`no_bundle` + `find_additional_modules`
 * in wrangler.toml), so workerd compiles a chunk only when a request first
 * imports it: a gateway request never parses the Filecoin, MCP or Hub SDKs
 * (docs/architecture.md "Code splitting"). wrangler's own bundler writes one
 * file and cannot split.
 *
 * The options follow wrangler's (its bundleWorker: the `workerd` build
 * conditions, the es2024 target, `process.env.NODE_ENV`, `.js` parsed as JSX)
 * so the split build behaves as the single-file one did, but without
 * wrangler's `keepNames`: it wraps every function expression in a
 * `__name(fn, "…")` call that runs each time the closure is made (many
 * per request: 3.5 % of a cached block's CPU, docs/benchmarks.md figure 8),
 * only to keep `fn.name` for the few identifiers esbuild renames on a
 * collision; neither this code nor its libraries read those names (the
 * CLI tests run against this build).
 * Run by wrangler's `[build]` (deploy, dev) and by `npm install`.
 */
import { build } from "esbuild";
import { rmSync, writeFileSync } from "node:fs";

const outdir = "dist/worker";
const nodeEnv = JSON.stringify(process.env.NODE_ENV ?? "production");

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { worker: "src/worker.ts" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  // `.mjs`: wrangler's default module rules read `.js` as CommonJS.
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  assetNames: "assets/[name]-[hash]",
  target: "es2024",
  supported: { "import-source": true, using: true },
  conditions: ["workerd", "worker", "browser"],
  external: ["cloudflare:*"],
  // A `.wasm` import stays an import of a compiled WebAssembly module, as in
  // wrangler's bundle (the piece-hash package imports its bytecode).
  loader: { ".js": "jsx", ".mjs": "jsx", ".cjs": "jsx", ".wasm": "copy" },
  define: {
    "process.env.NODE_ENV": nodeEnv,
    "global.process.env.NODE_ENV": nodeEnv,
    "globalThis.process.env.NODE_ENV": nodeEnv,
  },
  keepNames: false,
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
});
writeFileSync(`${outdir}/meta.json`, JSON.stringify(result.metafile));
// `wrangler types` names the entry of wrangler.toml (this build) in
// worker-configuration.d.ts; its types are the source's.
writeFileSync(`${outdir}/worker.d.ts`, 'export * from "../../src/worker";\nexport { default } from "../../src/worker";\n');
