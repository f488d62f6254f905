/**
 * Profiles the gateway's workerd under request load (not part of `npm run
 * bench`; a tool for finding where a request's time goes):
 *
 *   node --import ./bench/resolve-ts.mjs bench/profile-load.ts [--route raw|file|car|psa|health] [--seconds 5] [--no-profile]
 *
 * Starts the local upstream and one gateway worker, prepares the routes of
 * the load figure (bench/load-routes.ts), then runs the load client (bench/load-client.mjs) (8
 * connections) on one route under the V8 sampling profiler (Chrome DevTools
 * Protocol through wrangler's inspector port), prints the functions with
 * the most self time and writes bench/.work/gateway-load.cpuprofile.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { connectDevtools, reportProfile, startProfiler, stopProfiler } from "./devtools-profile.ts";
import { loadRun } from "./figure-load.ts";
import { loadRoutes } from "./load-routes.ts";
import { cpuSeconds } from "./stats.ts";
import { buildFile } from "./synthetic-dag.ts";
import { startBenchWorker } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));

const ROUTES = ["raw", "file", "car", "psa", "health"];
const { values } = parseArgs({ options: { route: { type: "string", default: "raw" }, seconds: { type: "string", default: "5" }, "no-profile": { type: "boolean", default: false } } });
const which = ROUTES.indexOf(values.route);
if (which < 0) throw new Error(`--route: one of ${ROUTES.join(", ")}`);

const server = await startTrustlessGatewayServer({ fixturesDir: null });
const block = buildFile({ size: 256 * 1024, chunkSize: 256 * 1024, seed: 31, keepLeaves: true });
const small = buildFile({ size: 200 * 1024, chunkSize: 64 * 1024, seed: 32, keepLeaves: true });
server.addBlockSource(block.getter);
server.addBlockSource(small.getter);
const adminToken = `profile-${process.pid}`;
const worker = await startBenchWorker("gateway-profile-load", "wrangler.toml", { UPSTREAMS: `${server.base}/slow-5~profile`, ADMIN_TOKEN: adminToken, PROVIDER_ROUTERS: "" });
try {
  const route = (await loadRoutes(worker, adminToken, block, small))[which]!;
  await loadRun(route, 8, 2); // warm-up
  // --no-profile: the route's rate alone, to compare one change against another without the profiler's cost.
  const devtools = values["no-profile"] ? undefined : await connectDevtools(worker.inspectorPort);
  if (devtools) await startProfiler(devtools);
  const cpu0 = cpuSeconds(worker.workerdPid);
  const run = await loadRun(route, 8, Number(values.seconds));
  const cpu = cpuSeconds(worker.workerdPid) - cpu0;
  const profile = devtools ? await stopProfiler(devtools) : undefined;
  console.log(`${route.label}: ${run.requestsPerSecond.toFixed(0)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms; workerd CPU ${((100 * cpu) / Number(values.seconds)).toFixed(0)} %`);
  if (devtools && profile) {
    reportProfile(profile, `${WORK}gateway-load.cpuprofile`, 30);
    devtools.close();
  }
} finally {
  await worker.stop();
  await server.close();
}
