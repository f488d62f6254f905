import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";
import { FOC_PAYER, FOC_SESSION_KEY, FOC_UNAUTHORISED_SESSION_KEY } from "./test/filecoin/foc-test-keys";

/**
 * Tests run inside workerd with the real bindings of wrangler.toml (DO, R2,
 * Cache). `test/global-setup.ts` starts, in Node, the local HTTP servers that
 * play upstream gateways and remote services; their base URLs reach the
 * tests through `inject()` and the worker through the bindings below.
 */
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      // The source, not wrangler.toml's split build (dist/worker): vite bundles it for the tests.
      main: "./src/worker.ts",
      miniflare: {
        bindings: {
          UPSTREAMS: inject<string>("upstreamBase") + "/honest",
          // Never the real badbits list: a cron run in tests reads the local publisher.
          DENYLIST_URLS: inject<string>("denylistBase") + "/lists/default.deny",
          ADMIN_TOKEN: "test-admin-token",
          HEDGE_DELAY_MS: "150",
          // Every request and upstream log line (wrangler.toml samples 1 in 100): tests read them.
          REQUEST_LOG_SAMPLE: "1",
          // Counts reach the Metrics object sooner than in production (1 s): tests wait for them.
          METRICS_FLUSH_MS: "250",
          TTFB_TIMEOUT_MS: "3000",
          IDLE_TIMEOUT_MS: "1500",
          ROUTERS: inject<string>("routingBase"),
          DOH_RESOLVER: inject<string>("dohBase") + "/dns-query",
          // Never cid.contact: provider discovery asks the local IPNI server (test/servers/ipni-server.ts).
          PROVIDER_ROUTERS: inject<string>("ipniBase"),
          // Never a real Filecoin node: the watch asks the local chain server (test/servers/filecoin-chain-server.ts).
          FOC_RPC_URL: inject<string>("filecoinBase") + "/rpc",
          LOTUS_RPC_URL: inject<string>("filecoinBase") + "/lotus",
          FOC_RPC_TIMEOUT_MS: "400",
          // A throwaway key, published here, paying on the local chain server only.
          FOC_PAYER_ADDRESS: "0x500d75F1329cf98352c32Cf238c2192ca78faFFE",
          FOC_FUNDING_KEY: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcaf784d7bf4f2ff80",
          FOC_AUTO_FUND: "on",
          FOC_MAX_BALANCE: "50",
          // A run stops after this many subrequests and an alarm continues it: low enough that
          // test/filecoin/watch-cron.test.ts sees 10,000 copies take two invocations (default 800).
          FOC_WATCH_SUBREQUESTS: "20",
          // Replication (test/replication/): backends are tenants of the local pinning service
          // (test/servers/psa-server.ts); the policy's default is R2 only, so other tests see no replicas.
          BACKENDS: JSON.stringify({
            ...Object.fromEntries(
              ["remote", "backup", "flaky", "limited", "wrongkey", "plain"].map((name) => [name, { type: "psa", endpoint: `${inject<string>("psaBase")}/t/${name}`, pollMs: 500, ...(name === "plain" ? { origins: [] } : {}) }]),
            ),
            // Through the engine to the other backend types (test/replication/end-to-end.test.ts,
            // test/filecoin/watch-engine.test.ts): the local S3 and Kubo servers, the local chain.
            "archive-s3": { type: "s3", endpoint: inject<string>("s3Base"), bucket: "replicas", region: "us-east-1", prefix: "engine/" },
            // gatewayUrl: a personality of the test gateway plays the node's gateway (test/filecoin/providers-as-upstreams.test.ts).
            "home-kubo": { type: "kubo", url: inject<string>("kuboBase"), gatewayUrl: inject<string>("upstreamBase") + "/honest~home-kubo" },
            fil: { type: "filecoin", chain: "calibration", rpcUrl: inject<string>("filecoinBase") + "/rpc", copies: 1, rpcTimeoutMs: 400 },
            // store() end to end (test/filecoin/store-end-to-end.test.ts): the local chain and its two PDP providers.
            foc: { type: "filecoin", chain: "calibration", rpcUrl: inject<string>("filecoinBase") + "/rpc", copies: 2, rpcTimeoutMs: 5000 },
            "foc-split": { type: "filecoin", chain: "calibration", rpcUrl: inject<string>("filecoinBase") + "/rpc", copies: 1, maxPieceBytes: 4096, rpcTimeoutMs: 5000, source: "split" },
            "foc-nokey": { type: "filecoin", chain: "calibration", rpcUrl: inject<string>("filecoinBase") + "/rpc", copies: 1, rpcTimeoutMs: 5000 },
            // Repair end to end (test/filecoin/repair-end-to-end.test.ts): its own data sets (source), which it terminates.
            "foc-repair": { type: "filecoin", chain: "calibration", rpcUrl: inject<string>("filecoinBase") + "/rpc", copies: 2, rpcTimeoutMs: 5000, source: "repair" },
            // Two accounts pinning one root (test/filecoin/remove-end-to-end.test.ts): its own data sets, so no other file's piece ids move.
            // Removal end to end (test/filecoin/remove-end-to-end.test.ts): its own data sets, so repair-end-to-end's piece ids do not depend on file order.
            "foc-remove": { type: "filecoin", chain: "calibration", rpcUrl: inject<string>("filecoinBase") + "/rpc", copies: 2, rpcTimeoutMs: 5000, source: "remove" },
            "foc-share": { type: "filecoin", chain: "calibration", rpcUrl: inject<string>("filecoinBase") + "/rpc", copies: 2, rpcTimeoutMs: 5000, source: "share" },
          }),
          // test/servers/s3-server.ts and kubo-rpc-server.ts test credentials; the Filecoin payer above, a throwaway session key.
          BACKEND_ARCHIVE_S3_ACCESS_KEY_ID: "EDGETESTKEY",
          BACKEND_ARCHIVE_S3_SECRET_ACCESS_KEY: "edge-test-secret-0123456789",
          BACKEND_HOME_KUBO_AUTH: "bearer:kubo-test-token-7f3a",
          BACKEND_FIL_SESSION_KEY: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
          BACKEND_FIL_PAYER: "0x500d75F1329cf98352c32Cf238c2192ca78faFFE",
          BACKEND_FOC_SESSION_KEY: FOC_SESSION_KEY,
          BACKEND_FOC_PAYER: FOC_PAYER,
          BACKEND_FOC_SPLIT_SESSION_KEY: FOC_SESSION_KEY,
          BACKEND_FOC_SPLIT_PAYER: FOC_PAYER,
          BACKEND_FOC_NOKEY_SESSION_KEY: FOC_UNAUTHORISED_SESSION_KEY,
          BACKEND_FOC_NOKEY_PAYER: FOC_PAYER,
          BACKEND_FOC_REPAIR_SESSION_KEY: FOC_SESSION_KEY,
          BACKEND_FOC_REPAIR_PAYER: FOC_PAYER,
          BACKEND_FOC_REMOVE_SESSION_KEY: FOC_SESSION_KEY,
          BACKEND_FOC_REMOVE_PAYER: FOC_PAYER,
          BACKEND_FOC_SHARE_SESSION_KEY: FOC_SESSION_KEY,
          BACKEND_FOC_SHARE_PAYER: FOC_PAYER,
          BACKEND_PLAIN_TOKEN: "psa-secret",
          BACKEND_REMOTE_TOKEN: "psa-secret",
          BACKEND_BACKUP_TOKEN: "psa-secret",
          BACKEND_FLAKY_TOKEN: "psa-secret",
          BACKEND_LIMITED_TOKEN: "psa-secret",
          BACKEND_WRONGKEY_TOKEN: "not-the-secret",
          REPLICATION_POLICY: JSON.stringify({
            default: { backends: ["r2"] },
            rules: [
              { when: { meta: { tier: "archive" } }, backends: ["r2", "remote", "backup"] },
              { when: { meta: { class: "sized" }, sizeAbove: "10 KB" }, backends: ["r2", "backup"] },
              { when: { meta: { class: "sized" } }, backends: ["r2", "remote"] },
              // Only pins with these metas (other tests see no change).
              { when: { meta: { tier: "kubo" } }, backends: ["r2", "home-kubo"] },
              { when: { meta: { tier: "s3" } }, backends: ["r2", "archive-s3"] },
              { when: { meta: { tier: "filecoin" } }, backends: ["r2", "fil"] },
              { when: { meta: { tier: "foc" } }, backends: ["r2", "foc"] },
              { when: { meta: { tier: "foc-split" } }, backends: ["r2", "foc-split"] },
              { when: { meta: { tier: "foc-nokey" } }, backends: ["r2", "foc-nokey"] },
              { when: { meta: { tier: "foc-repair" } }, backends: ["r2", "foc-repair"] },
              { when: { meta: { tier: "foc-remove" } }, backends: ["r2", "foc-remove"] },
              { when: { meta: { tier: "foc-share" } }, backends: ["r2", "foc-share"] },
            ],
          }),
          PUBLIC_URL: "https://edge.example",
          // Storacha legacy space (test/storacha/): the local w3up service and its claims; no gateway origin
          // (the space's blocks are on the honest upstream). STORACHA_ACCOUNTS is set per request by the tests.
          STORACHA_SERVICE_URL: inject<string>("storachaBase"),
          STORACHA_SERVICE_DID: inject<{ serviceDid: string }>("storachaFixture").serviceDid,
          STORACHA_CLAIMS_URL: inject<string>("storachaBase"),
          STORACHA_GATEWAY_URL: "",
          STORACHA_KEY: inject<{ key: string }>("storachaFixture").key,
          STORACHA_PROOF: inject<{ proof: string }>("storachaFixture").proof,
          // Pages of 2 uploads: the space's 3 take two steps (the cursor is exercised).
          STORACHA_IMPORT_BATCH: "2",
          // A Storacha call bounded at 5 s (production 30 s): the import job's timeout test waits for it once.
          STORACHA_TIMEOUT_MS: "5000",
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    // The CLI's tests and the bench tools' run in Node against wrangler dev (vitest.cli.config.ts).
    exclude: [...configDefaults.exclude, "test/cli/**", "test/bench/**"],
    testTimeout: 30_000,
    // The worker's structured JSON log lines (src/observability/log.ts) are not test output; tests of them capture them.
    onConsoleLog: (log) => !log.startsWith('{"ts":'),
    hookTimeout: 60_000,
    // @storacha/client hangs when the pool loads its many small modules one by one; pre-bundled it loads (FACTS.md).
    deps: { optimizer: { ssr: { enabled: true, include: ["@storacha/client", "@storacha/client/stores/memory", "@storacha/client/principal/ed25519", "@storacha/client/proof", "@storacha/client/service", "@storacha/client/delegation", "@ucanto/client", "@ucanto/transport"] } } },
  },
});
