/**
 * The pinning figures on their own (`bench/figure-pinning.ts`): starts the
 * local upstream server, one gateway worker and the pass-through worker
 * with `wrangler dev` on 127.0.0.1, measures, prints a Markdown table,
 * writes bench/.work/pinning.json, and stops everything it started.
 *
 *   node --experimental-transform-types --import ./bench/resolve-ts.mjs bench/pinning.ts
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { formatPinning, pinningFigures } from "./figure-pinning.ts";
import { timedGet } from "./http-get.ts";
import { mbPerSecond, MIB } from "./stats.ts";
import { buildFile } from "./synthetic-dag.ts";
import { startWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const log = (m: string) => process.stderr.write(`[bench:pinning ${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);

rmSync(`${WORK}state/pinning`, { recursive: true, force: true });
rmSync(`${WORK}state/pinning-pt`, { recursive: true, force: true });
mkdirSync(`${WORK}state`, { recursive: true });
const server = await startTrustlessGatewayServer({ fixturesDir: null });
const workers: WranglerDev[] = [];
try {
  const file = buildFile({ size: 256 * MIB, chunkSize: MIB, seed: 9, keepLeaves: false });
  server.addBlockSource(file.getter);
  const adminToken = `bench-${process.pid}-${Date.now()}`;
  workers.push(
    await startWranglerDev({ name: "gateway-pinning", config: "wrangler.toml", vars: { UPSTREAMS: `${server.base}/honest~pin`, ADMIN_TOKEN: adminToken }, persistTo: `${WORK}state/pinning`, logFile: `${WORK}gateway-pinning.log` }),
    await startWranglerDev({ name: "passthrough-pinning", config: "bench/passthrough.wrangler.toml", vars: { UPSTREAM: `${server.base}/honest~pinpt` }, persistTo: `${WORK}state/pinning-pt`, logFile: `${WORK}passthrough-pinning.log` }),
  );
  const [gateway, passthrough] = workers as [WranglerDev, WranglerDev];
  log(`upstream ${server.base}; gateway ${gateway.url}; pass-through ${passthrough.url}`);
  const pt = await timedGet(`${passthrough.url}/ipfs/${file.root}?dag-scope=all`, { Accept: CAR_ACCEPT });
  const passthroughMBps = mbPerSecond(pt.bytes, pt.totalMs);
  const figure = await pinningFigures(gateway, server, adminToken, log);
  writeFileSync(`${WORK}pinning.json`, `${JSON.stringify({ date: new Date().toISOString(), passthroughMBps, ...figure }, null, 2)}\n`);
  process.stdout.write(formatPinning(figure, passthroughMBps));
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  await server.close();
}
