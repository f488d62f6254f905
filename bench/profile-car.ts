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
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { timedGet } from "./http-get.ts";
import { rssBytes, sampleRss } from "./rss-sampler.ts";
import { cpuSeconds, mbPerSecond, MIB } from "./stats.ts";
import { buildFile } from "./synthetic-dag.ts";
import { bundleWorker, startWranglerDev } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A minimal Chrome DevTools Protocol client over WebSocket. */
async function connectDevtools(inspectorPort: number): Promise<{ send(method: string, params?: object): Promise<unknown>; close(): void }> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error("no inspector target");
  // wrangler's inspector proxy wants an Origin it allows (InspectorProxyWorker: localhost and DevTools hosts); undici's WebSocket takes extra headers.
  const ws = new WebSocket(url, { headers: { Origin: "http://localhost" } } as unknown as string[]);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  };
  return {
    send(method, params = {}) {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    close: () => ws.close(),
  };
}

/** Self time per function, from the sampled profile. */
function selfTimes(profile: CpuProfile): { name: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split("/").slice(-2).join("/");
    const name = `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...totals].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

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

mkdirSync(`${WORK}state`, { recursive: true });
const file = buildFile({ size, chunkSize, seed: 11, keepLeaves: size <= 512 * MIB });
// Warm-up: a 16 MiB file of the same block size (JIT and code paths), small enough not to grow the heap much.
const warmUpFile = buildFile({ size: 16 * MIB, chunkSize, seed: 12, keepLeaves: true });
const server = await startTrustlessGatewayServer({ fixturesDir: null });
server.addBlockSource(file.getter);
server.addBlockSource(warmUpFile.getter);
const worker = await startWranglerDev({
  name: "gateway-profile",
  config: "wrangler.toml",
  script: await bundleWorker("wrangler.toml", `${WORK}build/gateway-profile`, `${WORK}bundle-gateway-profile.log`),
  vars: { UPSTREAMS: `${server.base}/honest~profile`, ADMIN_TOKEN: `profile-${process.pid}` },
  persistTo: `${WORK}state/profile`,
  logFile: `${WORK}gateway-profile.log`,
});
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
    await devtools.send("Profiler.enable");
    await devtools.send("Profiler.setSamplingInterval", { interval: 200 });
    await devtools.send("Profiler.start");
  }
  const res = await timedGet(url, { Accept: CAR_ACCEPT }, { timeoutMs: 600_000 });
  const cpu = cpuSeconds(worker.workerdPid) - cpu0;
  if (gcTimer) clearInterval(gcTimer);
  const rss = await sampler.stop();
  if (res.bytes !== file.carLength) throw new Error(`stream: ${res.status}, ${res.bytes} of ${file.carLength} bytes`);
  console.log(`${(size / MIB).toFixed(0)} MiB, ${chunkSize} B blocks: ${mbPerSecond(res.bytes, res.totalMs).toFixed(1)} MB/s, workerd CPU ${((100 * cpu) / (res.totalMs / 1000)).toFixed(0)} %, RSS idle ${(idle / MIB).toFixed(1)} MiB, peak ${(rss.peakBytes / MIB).toFixed(1)} MiB (+${((rss.peakBytes - idle) / MIB).toFixed(1)})${gcEveryMs ? `, forced GC every ${gcEveryMs} ms` : ""}`);
  if (gcEveryMs === undefined) {
    const { profile } = (await devtools.send("Profiler.stop")) as { profile: CpuProfile };
    writeFileSync(`${WORK}gateway-car.cpuprofile`, JSON.stringify(profile));
    const times = selfTimes(profile);
    const total = times.reduce((sum, t) => sum + t.ms, 0);
    console.log(`profiled ${total.toFixed(0)} ms of samples; top self time:`);
    for (const t of times.slice(0, 25)) console.log(`${t.ms.toFixed(0).padStart(7)} ms ${((100 * t.ms) / total).toFixed(1).padStart(5)} %  ${t.name}`);
    console.log(`profile written to bench/.work/gateway-car.cpuprofile`);
  }
  devtools.close();
} finally {
  await worker.stop();
  await server.close();
}
