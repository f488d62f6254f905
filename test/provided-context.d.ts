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
    /** Base URL of the local alert webhook endpoint (test/servers/webhook-receiver.ts). */
    alertWebhookBase: string;
    /** Base URL of the local S3 service (s3rver behind a logging front, test/servers/s3-server.ts). */
    s3Base: string;
    /** Base URL of the local Kubo RPC API (test/servers/kubo-rpc-server.ts). */
    kuboBase: string;
    /** Base URL of the local Hugging Face Hub (test/servers/hf-hub-server.ts). */
    hfBase: string;
    /** Base URL of the local Filecoin server: `/rpc`, `/lotus`, `/piece/{cid}`, `/__state` (test/servers/filecoin-chain-server.ts). */
    filecoinBase: string;
    /** Local PDP providers (test/servers/pdp-provider-server.ts), ids "1" (endorsed) and "2". */
    pdpProviders: Array<{ id: string; base: string }>;
    /** Base URL of the local pinning service; tenants at `${psaBase}/t/{tenant}` (test/servers/psa-server.ts). */
    psaBase: string;
    /** Base URL of the local Storacha service: UCAN at `/`, `/receipt/`, `/claims/multihash/`, control `/__down` `/__up` `/__log` (test/servers/storacha-server.ts). */
    storachaBase: string;
    /** The legacy space it holds: uploads, the worker's key and delegations (good, forged, to another agent). */
    storachaFixture: import("./servers/storacha-server").StorachaFixture;
  }
}
