/**
 * Profiles the gateway's workerd while it streams a verified CAR (not part of
 * `npm run bench`; a tool for optimising the CAR path):
 *
 *   node --import ./bench/resolve-ts.mjs bench/profile-car.ts [--block 1048576] [--size 268435456] [--gc-every-ms N]
 *
 * Starts the local upstream server and one gateway worker (wrangler dev),
 * streams a 16 MiB CAR to warm up, then the file's CAR under the V8 sampling
 * profiler (Chrome DevTools Protocol through wrangler's inspector port). It
 * prints the functions with the most self time and writes the profile to
 * bench/.work/gateway-car.cpuprofile (open it in Chrome DevTools).
 * With `--gc-every-ms N` it profiles nothing and instead forces a full GC
 * in the worker every N ms during the stream, and prints the peak RSS: if the
 * peak falls far below `npm run bench`'s, the growth is garbage not yet
 * collected rather than live data.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { connectDevtools, reportProfile, startProfiler, stopProfiler } from "./devtools-profile.ts";
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { timedGet } from "./http-get.ts";
import { rssBytes, sampleRss } from "./rss-sampler.ts";
import { cpuSeconds, mbPerSecond, MIB } from "./stats.ts";
import { buildFile } from "./synthetic-dag.ts";
import { startBenchWorker } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));

const { values } = parseArgs({
  options: {
    block: { type: "string", default: String(MIB) },
    size: { type: "string", default: String(256 * MIB) },
    "gc-every-ms": { type: "string" },
  },
});
const chunkSize = Number(values.block);
const size = Number(values.size);
const gcEveryMs = values["gc-every-ms"] === undefined ? undefined : Number(values["gc-every-ms"]);

const file = buildFile({ size, chunkSize, seed: 11, keepLeaves: size <= 512 * MIB });
// Warm-up: a 16 MiB file of the same block size (JIT and code paths), small enough not to grow the heap much.
const warmUpFile = buildFile({ size: 16 * MIB, chunkSize, seed: 12, keepLeaves: true });
const server = await startTrustlessGatewayServer({ fixturesDir: null });
server.addBlockSource(file.getter);
server.addBlockSource(warmUpFile.getter);
const worker = await startBenchWorker("gateway-profile", "wrangler.toml", { UPSTREAMS: `${server.base}/honest~profile`, ADMIN_TOKEN: `profile-${process.pid}` });
try {
  const url = `${worker.url}/ipfs/${file.root}?format=car`;
  const warm = await timedGet(`${worker.url}/ipfs/${warmUpFile.root}?format=car`, { Accept: CAR_ACCEPT });
  if (warm.bytes !== warmUpFile.carLength) throw new Error(`warm-up: ${warm.status}, ${warm.bytes} of ${warmUpFile.carLength} bytes`);
  const devtools = await connectDevtools(worker.inspectorPort);
  const idle = rssBytes(worker.workerdPid);
  const sampler = sampleRss(worker.workerdPid, 50);
  const cpu0 = cpuSeconds(worker.workerdPid);
  let gcTimer: ReturnType<typeof setInterval> | undefined;
  if (gcEveryMs !== undefined) {
    gcTimer = setInterval(() => void devtools.send("HeapProfiler.collectGarbage").catch(() => undefined), gcEveryMs);
  } else {
    await startProfiler(devtools);
  }
  const res = await timedGet(url, { Accept: CAR_ACCEPT }, { timeoutMs: 600_000 });
  const cpu = cpuSeconds(worker.workerdPid) - cpu0;
  if (gcTimer) clearInterval(gcTimer);
  const rss = await sampler.stop();
  if (res.bytes !== file.carLength) throw new Error(`stream: ${res.status}, ${res.bytes} of ${file.carLength} bytes`);
  console.log(`${(size / MIB).toFixed(0)} MiB, ${chunkSize} B blocks: ${mbPerSecond(res.bytes, res.totalMs).toFixed(1)} MB/s, workerd CPU ${((100 * cpu) / (res.totalMs / 1000)).toFixed(0)} %, RSS idle ${(idle / MIB).toFixed(1)} MiB, peak ${(rss.peakBytes / MIB).toFixed(1)} MiB (+${((rss.peakBytes - idle) / MIB).toFixed(1)})${gcEveryMs ? `, forced GC every ${gcEveryMs} ms` : ""}`);
  if (gcEveryMs === undefined) {
    reportProfile(await stopProfiler(devtools), `${WORK}gateway-car.cpuprofile`, 25);
  }
  devtools.close();
} finally {
  await worker.stop();
  await server.close();
}
