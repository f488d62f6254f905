/**
 * `npm run bench:downloads`: figure 7 alone (bench/figure-downloads.ts), on
 * a fresh gateway and pass-through worker: a quicker loop while working on
 * the download paths than the whole `npm run bench`.
 *
 *   node --import ./bench/resolve-ts.mjs bench/downloads.ts [--size 268435456] [--block 1048576] [--rounds 3]
 */
import { mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { downloads } from "./figure-downloads.ts";
import { downloadMemory, formatDownloadMemory } from "./figure-download-memory.ts";
import { formatDownloads } from "./report-downloads.ts";
import { MIB } from "./stats.ts";
import { buildFile } from "./synthetic-dag.ts";
import { bundleWorker, startWranglerDev } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const { values } = parseArgs({ options: { size: { type: "string", default: String(256 * MIB) }, block: { type: "string", default: String(MIB) }, rounds: { type: "string", default: "3" }, memory: { type: "boolean", default: false } } });
const log = (m: string) => process.stderr.write(`[downloads ${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);

const loadStart = loadavg();
for (const dir of ["dl-gateway", "dl-passthrough"]) rmSync(`${WORK}state/${dir}`, { recursive: true, force: true });
mkdirSync(`${WORK}state`, { recursive: true });
const file = buildFile({ size: Number(values.size), chunkSize: Number(values.block), seed: 21, keepLeaves: true });
const server = await startTrustlessGatewayServer({ fixturesDir: null });
server.addBlockSource(file.getter);
const [gatewayScript, passthroughScript] = await Promise.all([
  bundleWorker("wrangler.toml", `${WORK}build/dl-gateway`, `${WORK}bundle-dl-gateway.log`),
  bundleWorker("bench/passthrough.wrangler.toml", `${WORK}build/dl-passthrough`, `${WORK}bundle-dl-passthrough.log`),
]);
const gateway = await startWranglerDev({
  name: "dl-gateway",
  config: "wrangler.toml",
  script: gatewayScript,
  // EDGE_CACHE_MAX_BYTES: let the 1 GiB file of --memory into the edge cache.
  vars: { UPSTREAMS: `${server.base}/honest~dl`, ADMIN_TOKEN: `dl-${process.pid}`, PROVIDER_ROUTERS: "", EDGE_CACHE_MAX_BYTES: String(2 * 1024 * MIB) },
  persistTo: `${WORK}state/dl-gateway`,
  logFile: `${WORK}dl-gateway.log`,
});
const passthrough = await startWranglerDev({
  name: "dl-passthrough",
  config: "bench/passthrough.wrangler.toml",
  script: passthroughScript,
  vars: { UPSTREAM: `${server.base}/honest~dlpt` },
  persistTo: `${WORK}state/dl-passthrough`,
  logFile: `${WORK}dl-passthrough.log`,
});
try {
  if (values.memory) {
    const big = buildFile({ size: 1024 * MIB, chunkSize: MIB, seed: 23, keepLeaves: false });
    const small = buildFile({ size: 200 * 1024, chunkSize: 64 * 1024, seed: 24, keepLeaves: true });
    server.addBlockSource(big.getter);
    server.addBlockSource(small.getter);
    log("memory: 1 GiB CAR, file miss, hit, Range");
    process.stdout.write(formatDownloadMemory(await downloadMemory(gateway, big, small)));
  }
  const figure = await downloads(file, `${server.base}/honest~direct`, gateway, passthrough, Number(values.rounds), log);
  process.stdout.write(`load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at start, ${loadavg().map((x) => x.toFixed(2)).join(" ")} at end\n`);
  process.stdout.write(formatDownloads(figure));
} finally {
  await gateway.stop();
  await passthrough.stop();
  await server.close();
}
