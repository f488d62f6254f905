import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

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
      miniflare: {
        bindings: {
          UPSTREAMS: inject<string>("upstreamBase") + "/honest",
          // Never the real badbits list: a cron run in tests reads the local publisher.
          DENYLIST_URLS: inject<string>("denylistBase") + "/lists/default.deny",
          ADMIN_TOKEN: "test-admin-token",
          HEDGE_DELAY_MS: "150",
          TTFB_TIMEOUT_MS: "3000",
          IDLE_TIMEOUT_MS: "1500",
          ROUTERS: inject<string>("routingBase"),
          DOH_RESOLVER: inject<string>("dohBase") + "/dns-query",
          // Never cid.contact: provider discovery asks the local IPNI server (test/servers/ipni-server.ts).
          PROVIDER_ROUTERS: inject<string>("ipniBase"),
          // Replication (test/replication/): backends are tenants of the local pinning service
          // (test/servers/psa-server.ts); the policy's default is R2 only, so other tests see no replicas.
          BACKENDS: JSON.stringify(Object.fromEntries(
            ["remote", "backup", "flaky", "limited", "wrongkey", "plain"].map((name) => [name, { type: "psa", endpoint: `${inject<string>("psaBase")}/t/${name}`, pollMs: 500, ...(name === "plain" ? { origins: [] } : {}) }]),
          )),
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
            ],
          }),
          PUBLIC_URL: "https://edge.example",
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
