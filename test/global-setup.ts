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
import { startWebhookReceiver } from "./servers/webhook-receiver";
import { startS3Server } from "./servers/s3-server";
import { startKuboRpcServer } from "./servers/kubo-rpc-server";
import { startHfHubServer } from "./servers/hf-hub-server";
import { startFilecoinChainServer } from "./servers/filecoin-chain-server";
import { StorageChain } from "./servers/filecoin-storage-chain";
import { startPdpProviders } from "./servers/pdp-provider-server";
import { FOC_PAYER, FOC_SESSION_KEY_ADDRESS } from "./filecoin/foc-test-keys";
import { startPsaServer } from "./servers/psa-server";
import { spawnStorachaServer } from "./servers/storacha-process";

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
  // An operator's alert webhook (budget alerts of the dashboard's cron): test/servers/webhook-receiver.ts.
  const alertWebhook = await startWebhookReceiver();
  project.provide("alertWebhookBase", alertWebhook.base);
  // Replication targets (issue 9): S3 (s3rver, SigV4 checked), Kubo RPC, Hugging Face Hub.
  const s3 = await startS3Server();
  project.provide("s3Base", s3.base);
  const kubo = await startKuboRpcServer();
  project.provide("kuboBase", kubo.base);
  const hf = await startHfHubServer();
  project.provide("hfBase", hf.base);
  // Filecoin (FOC JSON-RPC, a PDP provider's /piece, Lotus): test/servers/filecoin-chain-server.ts.
  // Its storage side (providers, session keys, data sets) and two local PDP providers
  // (Curio's API): test/servers/filecoin-storage-chain.ts, pdp-provider-server.ts.
  const storageChain = new StorageChain();
  storageChain.authorise(FOC_PAYER, FOC_SESSION_KEY_ADDRESS);
  const pdp = await startPdpProviders(storageChain, 2);
  project.provide("pdpProviders", pdp.providers);
  const filecoin = await startFilecoinChainServer(storageChain);
  project.provide("filecoinBase", filecoin.base);
  // Remote pinning services for replication, with real services' deviations (test/servers/psa-server.ts).
  const psa = await startPsaServer();
  project.provide("psaBase", psa.base);
  // A Storacha legacy space (issue 10): the maintainers' upload-api test context over HTTP, its
  // uploads' blocks added to the upstream above (test/servers/storacha-server.ts).
  const storacha = await spawnStorachaServer(upstream.base);
  project.provide("storachaBase", storacha.base);
  project.provide("storachaFixture", storacha.fixture);

  return async () => {
    await denylists.close();
    await routing.close();
    await doh.close();
    await ipni.close();
    await alertWebhook.close();
    await filecoin.close();
    await pdp.close();
    await psa.close();
    await storacha.close();
    await upstream.close();
    await s3.close();
    await kubo.close();
    await hf.close();
  };
}
