/**
 * workerd CPU per byte on the streaming paths (not part of `npm run bench`;
 * a tool for optimising them): CPU seconds the worker's workerd spends per
 * 256 MiB streamed, which a loaded machine moves far less than MB/s.
 *
 *   node --import ./bench/resolve-ts.mjs bench/cpu-per-byte.ts [--rounds 5] [--size 268435456] [--block 1048576]
 *
 * Rows: the pass-through Worker, the verified CAR, a file download (edge-
 * cache miss, the copy stored meanwhile) and `Range: bytes=0-` (not cached),
 * each with `curl` as client; medians of the rounds.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { curlGet } from "./curl-get.ts";
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { cpuSeconds, mbPerSecond, median, MIB } from "./stats.ts";
import { buildFile, leafBytes } from "./synthetic-dag.ts";
import { startBenchWorker } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const { values } = parseArgs({ options: { size: { type: "string", default: String(256 * MIB) }, block: { type: "string", default: String(MIB) }, rounds: { type: "string", default: "5" } } });
const size = Number(values.size);
const file = buildFile({ size, chunkSize: Number(values.block), seed: 31, keepLeaves: true });
const server = await startTrustlessGatewayServer({ fixturesDir: null });
server.addBlockSource(file.getter);
const gateway = await startBenchWorker("cpb-gateway", "wrangler.toml", { UPSTREAMS: `${server.base}/honest~cpb`, ADMIN_TOKEN: `cpb-${process.pid}`, PROVIDER_ROUTERS: "", EDGE_CACHE_MAX_BYTES: String(2 * 1024 * MIB) });
const passthrough = await startBenchWorker("cpb-passthrough", "bench/passthrough.wrangler.toml", { UPSTREAM: `${server.base}/honest~cpbpt` });
const rows = ["passthrough", "car", "fileMiss", "rangeMiss"] as const;
const mbs: Record<string, number[]> = {};
const cpu: Record<string, number[]> = {};
/** wrangler's proxy workerd, which every byte also crosses (bench/wrangler-dev.ts). */
const proxyCpu: Record<string, number[]> = {};
const load0 = loadavg()[0]!;
try {
  const carPath = `/ipfs/${file.root}?format=car`;
  for (let round = -1; round < Number(values.rounds); round++) {
    const key = `/ipfs/${file.root}?cpb=${Date.now()}-${round}`;
    const urls: Record<(typeof rows)[number], [string, Record<string, string>, number, number]> = {
      passthrough: [`${passthrough.url}${carPath}`, { Accept: CAR_ACCEPT }, 200, file.carLength],
      car: [`${gateway.url}${carPath}`, { Accept: CAR_ACCEPT }, 200, file.carLength],
      fileMiss: [`${gateway.url}${key}`, {}, 200, file.size],
      rangeMiss: [`${gateway.url}${key}&range=1`, { Range: "bytes=0-" }, 206, file.size],
    };
    for (const row of rows) {
      const [url, headers, status, bytes] = urls[row];
      const pid = row === "passthrough" ? passthrough.workerdPid : gateway.workerdPid;
      const proxyPid = row === "passthrough" ? passthrough.proxyPid : gateway.proxyPid;
      const cpu0 = cpuSeconds(pid);
      const proxy0 = cpuSeconds(proxyPid);
      // PERF_ROW=<row>: record workerd with perf(1) while that row streams (bench/.work/perf-<row>.data).
      const perf = round >= 0 && process.env.PERF_ROW === row ? spawn(process.env.STRACE ? "strace" : "perf", process.env.STRACE ? ["-c", "-f", "-o", `${WORK}strace-${row}-${round}.txt`, "-p", String(pid)] : ["record", "-F", "2000", "-g", "-p", String(pid), "-o", `${WORK}perf-${row}-${round}.data`], { stdio: "ignore" }) : undefined;
      if (perf) await new Promise((r) => setTimeout(r, 300));
      const res = await curlGet(url, headers);
      if (perf) {
        perf.kill("SIGINT");
        await new Promise((r) => perf.once("close", r));
      }
      if (res.status !== status || res.bytes !== bytes) throw new Error(`${row}: ${res.status}, ${res.bytes} of ${bytes} bytes`);
      if (round < 0) continue; // warm-up
      (mbs[row] ??= []).push(mbPerSecond(res.bytes, res.totalMs));
      (cpu[row] ??= []).push(((cpuSeconds(pid) - cpu0) * (256 * MIB)) / res.bytes);
      (proxyCpu[row] ??= []).push(((cpuSeconds(proxyPid) - proxy0) * (256 * MIB)) / res.bytes);
    }
  }
  // The bytes, not only their count: the CAR as the upstream sends it, the file (miss, then hit) as its leaves.
  const sha = async (url: string, headers: Record<string, string>) => {
    const res = await fetch(url, { headers });
    const hash = createHash("sha256");
    for await (const chunk of res.body!) hash.update(chunk);
    return `${res.status} ${res.headers.get("Content-Length")} ${hash.digest("hex")}`;
  };
  const fileHash = createHash("sha256");
  for (let i = 0, at = 0; at < size; i++, at += Number(values.block)) fileHash.update(leafBytes(31, i, Math.min(Number(values.block), size - at)));
  const wantFile = `200 ${size} ${fileHash.digest("hex")}`;
  const wantCar = (await sha(`${server.base}/honest~cpb${carPath}`, { Accept: CAR_ACCEPT })).replace(/^200 \S+/, "200 null");
  const key = `/ipfs/${file.root}?cpb=verify-${Date.now()}`;
  const got = { car: await sha(`${gateway.url}${carPath}`, { Accept: CAR_ACCEPT }), miss: await sha(`${gateway.url}${key}`, {}) };
  await new Promise((r) => setTimeout(r, 3000));
  const hit = await sha(`${gateway.url}${key}`, {});
  for (const [what, value, want] of [["car", got.car, wantCar], ["file miss", got.miss, wantFile], ["file hit", hit, wantFile]] as const) {
    process.stdout.write(`bytes: ${what} ${value === want ? "exact" : `WRONG: ${value}, want ${want}`}\n`);
  }
  process.stdout.write(`load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}; CPU of the worker's workerd and of wrangler's proxy workerd per 256 MiB, median of ${values.rounds}\n`);
  for (const row of rows) {
    const ms = (xs: number[]) => `${(1000 * median(xs)).toFixed(0).padStart(5)} ms (${xs.map((c) => (1000 * c).toFixed(0)).join(", ")})`;
    process.stdout.write(`${row.padEnd(12)} worker ${ms(cpu[row]!)}  proxy ${ms(proxyCpu[row]!)}  ${median(mbs[row]!).toFixed(0).padStart(4)} MB/s, ${(median(mbs[row]!) / median(mbs.passthrough!)).toFixed(2)} of pass-through\n`);
  }
} finally {
  await gateway.stop();
  await passthrough.stop();
  await server.close();
}
