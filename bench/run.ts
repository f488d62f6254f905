/**
 * `npm run bench`: the gateway's figures, each against a baseline measured
 * in the same run (docs/benchmarks.md says what each one means).
 *
 * Starts, all on 127.0.0.1: the local trustless gateway server
 * (test/servers/trustless-gateway-server.ts) holding synthetic UnixFS files,
 * and five `wrangler dev` workers: the gateway with the fast upstream alone,
 * the gateway racing three upstreams, the pass-through baseline worker, and
 * a fresh gateway and a fresh pass-through for the memory figure. Figures 4–6 (edge cache hit vs
 * miss, a Range at the end of 1 GiB, a 10,000-entry HAMT listing) run on the gateway and memory
 * workers after figure 3. Stops all of them at the end (or on
 * error / Ctrl-C), prints a table and writes bench/.work/latest.json.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer, type TrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { checkLayoutAgainstImporter } from "./check-dag.ts";
import { carThroughput } from "./figure-car-throughput.ts";
import { peakMemory } from "./figure-memory.ts";
import { edgeCacheTtfb } from "./figure-edge-cache.ts";
import { hamtListing } from "./figure-hamt-listing.ts";
import { rangeAtTheEnd, type BlockCounter } from "./figure-range.ts";
import { buildHamtDirectory } from "./hamt-directory.ts";
import { racingTtfb } from "./figure-racing.ts";
import { formatPinning, pinningFigures } from "./figure-pinning.ts";
import { formatReport, TARGETS, type BenchResult } from "./report.ts";
// Issue 8 figures: downloads with curl (7), file-download memory (3b), requests per second (8).
import { downloads } from "./figure-downloads.ts";
import { downloadMemory, formatDownloadMemory } from "./figure-download-memory.ts";
import { formatLoad, loadFigure } from "./figure-load.ts";
import { clientCeilingRoute, loadRoutes } from "./load-routes.ts";
import { formatDownloads } from "./report-downloads.ts";
import { MIB } from "./stats.ts";
import { buildFile, type SyntheticFile } from "./synthetic-dag.ts";
import type { BlockGetter } from "../test/servers/memory-block-store.ts";
import { bundleWorker, startWranglerDev, stopAllWranglerDev, type WranglerDev, type WranglerDevOptions } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
/** Timed rounds per worker and file in figure 1 (after one untimed run each). */
const THROUGHPUT_ROUNDS = 5;
/** Requests per TTFB series in figure 2. */
const RACING_REQUESTS = 100;
const SMALL_FILE_BYTES = 200 * 1024;
const SMALL_FILE_CHUNK = 64 * 1024;
/** Distinct 1 MiB files in the edge-cache figure (each: one miss, one hit). */
const EDGE_CACHE_FILES = 20;
/** Rounds of the last-MiB / first-MiB Range figure. */
const RANGE_ROUNDS = 5;
/** Entries of the HAMT directory listed in the listing figure. */
const HAMT_ENTRIES = 10_000;
const STATE_DIRS = ["gateway", "passthrough", "racing", "memory", "memory-passthrough", "load-gateway", "hello", "load-passthrough"];
/** Rounds of figure 7 (downloads, curl as client). */
const DOWNLOAD_ROUNDS = 5;

/** Set by SIGINT/SIGTERM: the run is being torn down, so the errors that follow are expected. */
let interrupted = false;

/** Wraps a block getter so that the blocks it serves are recorded (the upstream reads a block only to send it). */
function countingGetter(getter: BlockGetter): { getter: BlockGetter; counter: BlockCounter } {
  let read: string[] = [];
  return {
    getter: (cidV1, cid) => {
      const bytes = getter(cidV1, cid);
      if (bytes) read.push(cidV1);
      return bytes;
    },
    counter: { reset: () => (read = []), read: () => [...read] },
  };
}

function log(message: string): void {
  process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(1)}s] ${message}\n`);
}

async function startAll(options: WranglerDevOptions[]): Promise<WranglerDev[]> {
  const settled = await Promise.allSettled(options.map((o) => startWranglerDev(o)));
  const started = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(started.map((w) => w.stop()));
    throw failed.reason;
  }
  return started;
}

async function main(): Promise<void> {
  const loadAvgStart = loadavg();
  // Fresh local state (DO, R2, Cache) for each of our workers; other benches keep theirs under state/ too.
  for (const dir of STATE_DIRS) rmSync(`${WORK}state/${dir}`, { recursive: true, force: true });
  mkdirSync(`${WORK}state`, { recursive: true });

  log("checking the synthetic DAG layout against ipfs-unixfs-importer");
  await checkLayoutAgainstImporter();
  log("building the DAGs (2 × 256 MiB in memory, 1 GiB on demand, small files)");
  const file1MiB = buildFile({ size: 256 * MIB, chunkSize: MIB, seed: 1, keepLeaves: true });
  const file256KiB = buildFile({ size: 256 * MIB, chunkSize: 256 * 1024, seed: 2, keepLeaves: true });
  const file1GiB = buildFile({ size: 1024 * MIB, chunkSize: MIB, seed: 3, keepLeaves: false });
  const smallFiles: SyntheticFile[] = [];
  for (let i = 0; i < 4 * RACING_REQUESTS + 1; i++) {
    smallFiles.push(buildFile({ size: SMALL_FILE_BYTES, chunkSize: SMALL_FILE_CHUNK, seed: 1000 + i, keepLeaves: true }));
  }
  const cacheFiles: SyntheticFile[] = [];
  for (let i = 0; i < EDGE_CACHE_FILES; i++) cacheFiles.push(buildFile({ size: MIB, chunkSize: 256 * 1024, seed: 5000 + i, keepLeaves: true }));
  const counted1GiB = countingGetter(file1GiB.getter);
  // Figure 3b: a 1 GiB file of its own (its plain download is cached on the memory worker, unlike figure 5's).
  const file1GiBDownload = buildFile({ size: 1024 * MIB, chunkSize: MIB, seed: 4, keepLeaves: false });
  // Figure 8: a 256 KiB raw block and a 200 KiB file.
  const loadBlock = buildFile({ size: 256 * 1024, chunkSize: 256 * 1024, seed: 31, keepLeaves: true });
  const loadSmall = buildFile({ size: 200 * 1024, chunkSize: 64 * 1024, seed: 32, keepLeaves: true });
  log(`building a ${HAMT_ENTRIES}-entry HAMT directory with ipfs-unixfs-importer`);
  const hamtDir = await buildHamtDirectory(HAMT_ENTRIES);

  let server: TrustlessGatewayServer | undefined;
  let workers: WranglerDev[] = [];
  const stopAll = async (): Promise<void> => {
    const stopping = workers;
    workers = [];
    const upstream = server;
    server = undefined;
    await Promise.all(stopping.map((w) => w.stop()));
    await upstream?.close();
  };
  const onSignal = (): void => {
    interrupted = true;
    log("interrupted: stopping what the bench started");
    void Promise.allSettled([stopAll(), stopAllWranglerDev()]).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    server = await startTrustlessGatewayServer({ fixturesDir: null });
    const upstream = server;
    for (const file of [file1MiB, file256KiB, ...smallFiles, ...cacheFiles]) upstream.addBlockSource(file.getter);
    upstream.addBlockSource(counted1GiB.getter);
    for (const file of [file1GiBDownload, loadBlock, loadSmall]) upstream.addBlockSource(file.getter);
    for (const block of hamtDir.blocks) upstream.addBlock(block.cid, block.bytes);
    // `~tag` only names the request log (personalities.ts), so each worker's upstream requests can be counted apart.
    const at = (personality: string) => `${upstream.base}/${personality}`;
    const racingUpstreams = ["slow-2000~race", "status-500~race", "honest~race"];
    const adminToken = `bench-${process.pid}-${Date.now()}`;
    // PROVIDER_ROUTERS empty: never ask cid.contact from a bench (only 127.0.0.1 is reached).
    const gatewayVars = (upstreams: string[]) => ({ UPSTREAMS: upstreams.map(at).join(","), ADMIN_TOKEN: adminToken, PROVIDER_ROUTERS: "" });

    log("bundling the gateway and the pass-through worker (a snapshot of src/ for the whole run)");
    const [gatewayScript, passthroughScript, helloScript] = await Promise.all([
      bundleWorker("wrangler.toml", `${WORK}build/gateway`, `${WORK}bundle-gateway.log`),
      bundleWorker("bench/passthrough.wrangler.toml", `${WORK}build/passthrough`, `${WORK}bundle-passthrough.log`),
      bundleWorker("bench/hello.wrangler.toml", `${WORK}build/hello`, `${WORK}bundle-hello.log`),
    ]);
    const gw = { config: "wrangler.toml", script: gatewayScript };
    const pt = { config: "bench/passthrough.wrangler.toml", script: passthroughScript };
    log(`upstream server on ${upstream.base}; starting 8 workers with wrangler dev`);
    workers = await startAll([
      { name: "gateway", ...gw, vars: gatewayVars(["honest~gw"]), persistTo: `${WORK}state/gateway`, logFile: `${WORK}gateway.log` },
      { name: "passthrough", ...pt, vars: { UPSTREAM: at("honest~pt") }, persistTo: `${WORK}state/passthrough`, logFile: `${WORK}passthrough.log` },
      { name: "gateway-racing", ...gw, vars: gatewayVars(racingUpstreams), persistTo: `${WORK}state/racing`, logFile: `${WORK}gateway-racing.log` },
      // EDGE_CACHE_MAX_BYTES: figure 3b caches a 1 GiB file to measure its hit.
      { name: "gateway-memory", ...gw, vars: { ...gatewayVars(["honest~mem"]), EDGE_CACHE_MAX_BYTES: String(2048 * MIB) }, persistTo: `${WORK}state/memory`, logFile: `${WORK}gateway-memory.log` },
      { name: "passthrough-memory", ...pt, vars: { UPSTREAM: at("honest~mempt") }, persistTo: `${WORK}state/memory-passthrough`, logFile: `${WORK}passthrough-memory.log` },
      // Figure 8: the gateway with its upstream 5 ms away (slow-5), and the hello-world baseline.
      { name: "gateway-load", ...gw, vars: gatewayVars(["slow-5~load"]), persistTo: `${WORK}state/load-gateway`, logFile: `${WORK}gateway-load.log` },
      { name: "hello", config: "bench/hello.wrangler.toml", script: helloScript, vars: {}, persistTo: `${WORK}state/hello`, logFile: `${WORK}hello.log` },
      // Figure 8's CAR yardstick: a pass-through to the same upstream, 5 ms away (bench/load-routes.ts).
      { name: "passthrough-load", ...pt, vars: { UPSTREAM: at("slow-5~loadpt") }, persistTo: `${WORK}state/load-passthrough`, logFile: `${WORK}passthrough-load.log` },
    ]);
    const [gateway, passthrough, racing, memory, memoryPassthrough, loadGateway, hello, loadPassthrough] = workers as [
      WranglerDev,
      WranglerDev,
      WranglerDev,
      WranglerDev,
      WranglerDev,
      WranglerDev,
      WranglerDev,
      WranglerDev,
    ];
    for (const w of workers) log(`  ${w.name}: ${w.url} (wrangler pid ${w.pid}, workerd pid ${w.workerdPid})`);

    log("figure 1: 256 MiB CAR, 1 MiB blocks, verified vs pass-through");
    const throughput1MiB = await carThroughput(file1MiB, gateway, passthrough, THROUGHPUT_ROUNDS);
    log("figure 1b: 256 MiB CAR, 256 KiB blocks, verified vs pass-through");
    const throughput256KiB = await carThroughput(file256KiB, gateway, passthrough, THROUGHPUT_ROUNDS);

    log(`figure 2: TTFB, ${RACING_REQUESTS} small-file CARs per series`);
    const counts = () => Object.fromEntries(racingUpstreams.map((p) => [p.split("~")[0]!, upstream.requestLog(p).length]));
    const racingFigure = await racingTtfb(gateway, racing, smallFiles, RACING_REQUESTS, counts);

    log("figure 3: workerd peak RSS while streaming a 1 GiB CAR");
    const memoryFigure = await peakMemory(memory, file1GiB, smallFiles[4 * RACING_REQUESTS]!);
    log("figure 3, for comparison: the pass-through worker's workerd streaming the same 1 GiB CAR");
    const memoryPassthroughFigure = await peakMemory(memoryPassthrough, file1GiB, smallFiles[4 * RACING_REQUESTS]!);

    log(`figure 4: edge cache, TTFB of ${EDGE_CACHE_FILES} 1 MiB files, miss then hit`);
    const edgeCacheFigure = await edgeCacheTtfb(gateway, cacheFiles, () => upstream.requestLog("honest~gw").length);
    log("figure 5: Range for the last 1 MiB of the 1 GiB file vs the first 1 MiB");
    const rangeFigure = await rangeAtTheEnd(gateway, file1GiB, counted1GiB.counter, () => upstream.requestLog("honest~gw").length, RANGE_ROUNDS);
    log(`figure 6: HTML listing of the ${HAMT_ENTRIES}-entry HAMT directory (time, workerd RSS)`);
    const hamtFigure = await hamtListing(memory, hamtDir, () => upstream.requestLog("honest~mem").length);
    log("figure 3b: workerd RSS while serving a 1 GiB file download (miss with the cache copy, hit, Range)");
    const downloadMemoryFigure = await downloadMemory(memory, file1GiBDownload, smallFiles[4 * RACING_REQUESTS]!);
    log(`figure 7: downloads of the 256 MiB file (1 MiB blocks), curl as client, ${DOWNLOAD_ROUNDS} rounds`);
    const downloadsFigure = await downloads(file1MiB, at("honest~direct"), gateway, passthrough, DOWNLOAD_ROUNDS, log);
    log("figure 8: requests per second, 8 connections x 5 s per route, against the hello-world Worker");
    const loadFigureResult = await loadFigure(`${hello.url}/`, [clientCeilingRoute(upstream.base, loadBlock), ...(await loadRoutes(loadGateway, adminToken, loadBlock, loadSmall, loadPassthrough))], log);

    // Pinning (bench/figure-pinning.ts): PSA, webhooks, 10,000-pin listing, 256 MiB upload, on the same gateway.
    const pinningFigure = await pinningFigures(gateway, upstream, adminToken, log);

    const result: BenchResult = {
      date: new Date().toISOString(),
      command: "npm run bench",
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryBytes: totalmem(), loadAvgStart, loadAvgEnd: loadavg() },
      versions: {
        node: process.version,
        wrangler: (JSON.parse(readFileSync(new URL("../node_modules/wrangler/package.json", import.meta.url), "utf8")) as { version: string }).version,
      },
      targets: TARGETS,
      throughput1MiB,
      throughput256KiB,
      racing: racingFigure,
      memory: memoryFigure,
      memoryPassthrough: memoryPassthroughFigure,
      edgeCache: edgeCacheFigure,
      range: rangeFigure,
      hamtListing: hamtFigure,
      downloadMemory: downloadMemoryFigure,
      downloads: downloadsFigure,
      load: loadFigureResult,
      durationSeconds: performance.now() / 1000,
    };
    await stopAll();
    writeFileSync(`${WORK}latest.json`, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(formatReport(result));
    process.stdout.write(`\n${formatDownloadMemory(downloadMemoryFigure)}\n${formatDownloads(downloadsFigure)}\n${formatLoad(loadFigureResult)}`);
    writeFileSync(`${WORK}pinning.json`, `${JSON.stringify(pinningFigure, null, 2)}\n`);
    process.stdout.write(`\n${formatPinning(pinningFigure, throughput1MiB.passthrough.medianMBps)}`);
    log(`figures written to bench/.work/latest.json`);
  } finally {
    await stopAll();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

await main().catch((error: unknown) => {
  if (interrupted) return; // onSignal exits once everything is stopped
  console.error(error);
  process.exitCode = 1;
});
