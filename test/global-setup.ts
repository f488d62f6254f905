/**
 * vitest globalSetup, run in Node before any test: starts the local HTTP
 * servers that play the worker's remote peers on 127.0.0.1 and hands their
 * base URLs to the tests (`inject()` from "vitest") and to the worker's
 * bindings (`vitest.config.ts`). The returned function stops them.
 */
import type { TestProject } from "vitest/node";
import { startDelegatedRoutingServer } from "./servers/delegated-routing-server";
import { startDohServer } from "./servers/doh-server";
import { startTrustlessGatewayServer } from "./servers/trustless-gateway-server";
import { startDenylistServer } from "./servers/denylist-server";
import { startIpniServer } from "./servers/ipni-server";
import { startPsaServer } from "./servers/psa-server";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Upstream trustless gateways, honest and hostile: `${upstreamBase}/${personality}`.
  const upstream = await startTrustlessGatewayServer();
  project.provide("upstreamBase", upstream.base);
  // Denylist publishers (IPIP-383 lists, a generated badbits-style list): test/servers/denylist-server.ts.
  const denylists = await startDenylistServer();
  project.provide("denylistBase", denylists.base);
  // IPNS records (conformance fixtures + PUT) over delegated routing v1, and DNSLink over DoH JSON.
  const routing = await startDelegatedRoutingServer();
  project.provide("routingBase", routing.base);
  const doh = await startDohServer();
  project.provide("dohBase", doh.base);
  // Content routing (providers of a CID, as cid.contact / IPNI): test/servers/ipni-server.ts.
  const ipni = await startIpniServer();
  project.provide("ipniBase", ipni.base);
  // Remote pinning services for replication, with real services' deviations (test/servers/psa-server.ts).
  const psa = await startPsaServer();
  project.provide("psaBase", psa.base);

  return async () => {
    await denylists.close();
    await routing.close();
    await doh.close();
    await ipni.close();
    await psa.close();
    await upstream.close();
  };
}
