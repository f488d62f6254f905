import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";

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
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    // The CLI's tests run in Node against wrangler dev (vitest.cli.config.ts).
    exclude: [...configDefaults.exclude, "test/cli/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
