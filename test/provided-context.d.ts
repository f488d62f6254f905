/**
 * Values `test/global-setup.ts` provides to the tests (read with `inject()`
 * from "vitest"). Add a key here when global-setup provides a new one.
 */
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the local trustless-gateway server; upstreams are `${upstreamBase}/${personality}`. */
    upstreamBase: string;
    /** Base URL of the local denylist publisher (test/servers/denylist-server.ts). */
    denylistBase: string;
    /** Base URL of the local delegated routing server (`/routing/v1/ipns/{name}`, test/servers/delegated-routing-server.ts). */
    routingBase: string;
    /** Base URL of the local DNS-over-HTTPS server; the resolver is `${dohBase}/dns-query` (test/servers/doh-server.ts). */
    dohBase: string;
    /** Base URL of the local content routing server (`/routing/v1/providers/{cid}`, test/servers/ipni-server.ts). */
    ipniBase: string;
    /** Base URL of the local pinning service; tenants at `${psaBase}/t/{tenant}` (test/servers/psa-server.ts). */
    psaBase: string;
  }
}
