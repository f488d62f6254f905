/**
 * `npm run bench:downloads`: figure 7 alone (bench/figure-downloads.ts), on
 * a fresh gateway and pass-through worker: a quicker loop while working on
 * the download paths than the whole `npm run bench`.
 *
 *   node --import ./bench/resolve-ts.mjs bench/downloads.ts [--size 268435456] [--block 1048576] [--rounds 3]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { downloads } from "./figure-downloads.ts";
import { downloadMemory, formatDownloadMemory } from "./figure-download-memory.ts";
import { formatDownloads } from "./report-downloads.ts";
import { MIB } from "./stats.ts";
import { buildFile } from "./synthetic-dag.ts";
import { startBenchWorker } from "./wrangler-dev.ts";

const { values } = parseArgs({ options: { size: { type: "string", default: String(256 * MIB) }, block: { type: "string", default: String(MIB) }, rounds: { type: "string", default: "3" }, memory: { type: "boolean", default: false } } });
const log = (m: string) => process.stderr.write(`[downloads ${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);

const loadStart = loadavg();
const file = buildFile({ size: Number(values.size), chunkSize: Number(values.block), seed: 21, keepLeaves: true });
const server = await startTrustlessGatewayServer({ fixturesDir: null });
server.addBlockSource(file.getter);
// EDGE_CACHE_MAX_BYTES: let the 1 GiB file of --memory into the edge cache.
const gateway = await startBenchWorker("dl-gateway", "wrangler.toml", { UPSTREAMS: `${server.base}/honest~dl`, ADMIN_TOKEN: `dl-${process.pid}`, PROVIDER_ROUTERS: "", EDGE_CACHE_MAX_BYTES: String(2 * 1024 * MIB) });
const passthrough = await startBenchWorker("dl-passthrough", "bench/passthrough.wrangler.toml", { UPSTREAM: `${server.base}/honest~dlpt` });
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
