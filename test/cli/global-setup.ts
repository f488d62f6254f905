/**
 * Node globalSetup of the CLI tests (vitest.cli.config.ts): builds the CLI,
 * starts the local trustless upstream (test/servers/trustless-gateway-server.ts)
 * and one `wrangler dev` of the worker using it, mints an API token through
 * the operator API, and hands { endpoint, token, upstreamBase } to the tests.
 * Replication: the worker's BACKENDS are tenants of the local pinning
 * service (test/servers/psa-server.ts): `remote` and `backup` (token
 * right), `wrongkey` (token refused); the policy's default is R2 only, so
 * only pins that ask (`pin add --backend`, `migrate`) get replicas. The
 * operator token and the PSA server's base go to the tests too.
 * Everything listens on 127.0.0.1, on free ports; everything is stopped after.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { bundleWorker, startWranglerDev } from "../../bench/wrangler-dev";
import { PSA_TOKEN, startPsaServer } from "../servers/psa-server";
import { startTrustlessGatewayServer } from "../servers/trustless-gateway-server";
import { spawnStorachaServer } from "../servers/storacha-process";
import type { StorachaFixture } from "../servers/storacha-server";
import { buildCli } from "./cli-process";

declare module "vitest" {
  export interface ProvidedContext {
    endpoint: string;
    token: string;
    account: string;
    upstreamBase: string;
    adminToken: string;
    psaBase: string;
    bundleDir: string;
    storachaFixture: StorachaFixture;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildCli();
  const work = mkdtempSync(join(tmpdir(), "ipfs-kit-cli-test-"));
  mkdirSync(join(work, "state"));
  const upstream = await startTrustlessGatewayServer({ fixturesDir: null });
  const psa = await startPsaServer();
  // A Storacha legacy space (migrate storacha): the upload-api test context, its DAGs' blocks on the upstream.
  const storacha = await spawnStorachaServer(upstream.base);
  const backends = Object.fromEntries(["remote", "backup", "wrongkey"].map((name) => [name, { type: "psa", endpoint: `${psa.base}/t/${name}`, pollMs: 300 }]));
  const adminToken = `cli-test-${process.pid}-${Date.now()}`;
  const script = await bundleWorker("wrangler.toml", join(work, "bundle"), join(work, "bundle.log"));
  const worker = await startWranglerDev({
    name: "cli-test",
    config: "wrangler.toml",
    script,
    // PROVIDER_ROUTERS empty: only 127.0.0.1 is ever asked.
    vars: { UPSTREAMS: `${upstream.base}/honest`, ADMIN_TOKEN: adminToken, PROVIDER_ROUTERS: "", IDLE_TIMEOUT_MS: "3000", TTFB_TIMEOUT_MS: "5000",
      BACKENDS: JSON.stringify(backends),
      BACKEND_REMOTE_TOKEN: PSA_TOKEN,
      BACKEND_BACKUP_TOKEN: PSA_TOKEN,
      BACKEND_WRONGKEY_TOKEN: "not-the-secret",
      REPLICATION_POLICY: JSON.stringify({ default: { backends: ["r2"] } }),
      // The verification run checks every stored copy, however recent (a copy forgotten by the remote shows at once).
      REPLICA_VERIFY_MIN_AGE_MS: "0",
      // The local Storacha service; every account may migrate it (the test's account is minted after start).
      STORACHA_SERVICE_URL: storacha.base,
      STORACHA_SERVICE_DID: storacha.fixture.serviceDid,
      STORACHA_CLAIMS_URL: storacha.base,
      STORACHA_GATEWAY_URL: "",
      STORACHA_KEY: storacha.fixture.key,
      STORACHA_PROOF: storacha.fixture.proof,
      STORACHA_ACCOUNTS: "*",
    },
    persistTo: join(work, "state"),
    logFile: join(work, "wrangler.log"),
  });
  try {
    const minted = await fetch(`${worker.url}/api/v1/tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "cli-tests" }),
    });
    if (minted.status !== 201) throw new Error(`minting a token: ${minted.status} ${await minted.text()}`);
    const { token, account } = (await minted.json()) as { token: string; account: string };
    project.provide("endpoint", worker.url);
    project.provide("token", token);
    project.provide("account", account);
    project.provide("upstreamBase", upstream.base);
    project.provide("adminToken", adminToken);
    project.provide("psaBase", psa.base);
    // The modules wrangler uploads (the split build, test/cli/worker-build.test.ts).
    project.provide("bundleDir", join(work, "bundle"));
    project.provide("storachaFixture", storacha.fixture);
  } catch (err) {
    await worker.stop();
    await upstream.close();
    await psa.close();
    await storacha.close();
    throw err;
  }
  return async () => {
    await worker.stop();
    await upstream.close();
    await psa.close();
    await storacha.close();
    rmSync(work, { recursive: true, force: true });
  };
}
