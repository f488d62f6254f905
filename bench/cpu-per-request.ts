/**
 * CPU per request of each `wrangler dev` process under load (not part of
 * `npm run bench`; a tool for the miss path, docs/benchmarks.md "The miss
 * path"):
 *
 *   node --import ./bench/resolve-ts.mjs bench/cpu-per-request.ts [--seconds 6] [--rounds 2]
 *
 * Starts the local upstream, the gateway (its upstream 5 ms away: slow-5),
 * the hello-world Worker and the pass-through Worker, then runs the load client (bench/load-client.mjs)
 * (8 connections) on: hello-world, a gateway 404, the pass-through Worker
 * fetching the 200 KiB file's CAR, and the gateway's CAR of the same file
 * (never cached). For each it prints req/s, p50/p99 and the CPU
 * milliseconds per request of the worker's workerd (which also runs its
 * Durable Objects and the R2/Cache simulators), of wrangler's proxy workerd
 * (every byte and log line crosses it) and of this process (the upstream).
 * CPU per request is steadier than req/s on a shared machine, but it too
 * rises with the load average: compare runs of similar load.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { loadRun, type LoadRoute } from "./figure-load.ts";
import { cpuSeconds, ownCpuSeconds } from "./stats.ts";
import { buildFile } from "./synthetic-dag.ts";
import { startBenchWorker, type WranglerDev } from "./wrangler-dev.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "6" }, rounds: { type: "string", default: "2" } } });
const CONNECTIONS = 8;

const server = await startTrustlessGatewayServer({ fixturesDir: null });
const small = buildFile({ size: 200 * 1024, chunkSize: 64 * 1024, seed: 32, keepLeaves: true });
server.addBlockSource(small.getter);
const workers: WranglerDev[] = [];
try {
  const gateway = await startBenchWorker("cpu-gateway", "wrangler.toml", { UPSTREAMS: `${server.base}/slow-5~cpu`, ADMIN_TOKEN: `cpu-${process.pid}`, PROVIDER_ROUTERS: "" });
  workers.push(gateway);
  const hello = await startBenchWorker("cpu-hello", "bench/hello.wrangler.toml", {});
  workers.push(hello);
  const passthrough = await startBenchWorker("cpu-passthrough", "bench/passthrough.wrangler.toml", { UPSTREAM: `${server.base}/slow-5~cpupt` });
  workers.push(passthrough);
  const car = { Accept: "application/vnd.ipld.car" };
  const routes: [WranglerDev, LoadRoute][] = [
    [hello, { label: "hello-world", url: `${hello.url}/` }],
    [gateway, { label: "gateway 404", url: `${gateway.url}/nothing-here` }],
    [passthrough, { label: "pass-through, the 200 KiB file's CAR", url: `${passthrough.url}/ipfs/${small.root}?format=car&dag-scope=all`, headers: car }],
    [gateway, { label: "gateway CAR of the 200 KiB file (an edge-cache hit after the first request)", url: `${gateway.url}/ipfs/${small.root}?format=car`, headers: car }],
  ];
  for (const [, route] of routes) await loadRun(route, CONNECTIONS, 1); // warm-up, untimed
  console.log(`| request | req/s | p50 / p99 ms | workerd ms | proxy ms | upstream (bench) ms | load |`);
  console.log(`|---|---|---|---|---|---|---|`);
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [worker, route] of routes) {
      const w0 = cpuSeconds(worker.workerdPid);
      const p0 = cpuSeconds(worker.proxyPid);
      const o0 = ownCpuSeconds();
      const run = await loadRun(route, CONNECTIONS, Number(values.seconds));
      const per = (seconds: number) => ((1000 * seconds) / Math.max(1, run.requests)).toFixed(2);
      const bad = route.label === "gateway 404" ? "" : run.errors + run.non2xx > 0 ? ` (${run.errors + run.non2xx} errors)` : "";
      console.log(
        `| ${route.label}${bad} | ${run.requestsPerSecond.toFixed(0)} | ${run.p50Ms} / ${run.p99Ms} | ${per(cpuSeconds(worker.workerdPid) - w0)} | ${per(cpuSeconds(worker.proxyPid) - p0)} | ${per(ownCpuSeconds() - o0)} | ${loadavg()[0]!.toFixed(1)} |`,
      );
    }
  }
} finally {
  for (const w of workers) await w.stop();
  await server.close();
}
