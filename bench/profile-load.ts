/**
 * Profiles the gateway's workerd under request load (not part of `npm run
 * bench`; a tool for finding where a request's time goes):
 *
 *   node --import ./bench/resolve-ts.mjs bench/profile-load.ts [--route raw|file|car|psa|health] [--seconds 5]
 *
 * Starts the local upstream and one gateway worker, prepares the routes of
 * the load figure (bench/load-routes.ts), then runs autocannon (8
 * connections) on one route under the V8 sampling profiler (Chrome DevTools
 * Protocol through wrangler's inspector port), prints the functions with
 * the most self time and writes bench/.work/gateway-load.cpuprofile.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { autocannon } from "./figure-load.ts";
import { loadRoutes } from "./load-routes.ts";
import { cpuSeconds } from "./stats.ts";
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
export async function connectDevtools(inspectorPort: number): Promise<{ send(method: string, params?: object): Promise<unknown>; close(): void }> {
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


const ROUTES = ["raw", "file", "car", "psa", "health"];
const { values } = parseArgs({ options: { route: { type: "string", default: "raw" }, seconds: { type: "string", default: "5" } } });
const which = ROUTES.indexOf(values.route);
if (which < 0) throw new Error(`--route: one of ${ROUTES.join(", ")}`);

mkdirSync(`${WORK}state`, { recursive: true });
const server = await startTrustlessGatewayServer({ fixturesDir: null });
const block = buildFile({ size: 256 * 1024, chunkSize: 256 * 1024, seed: 31, keepLeaves: true });
const small = buildFile({ size: 200 * 1024, chunkSize: 64 * 1024, seed: 32, keepLeaves: true });
server.addBlockSource(block.getter);
server.addBlockSource(small.getter);
const adminToken = `profile-${process.pid}`;
const worker = await startWranglerDev({
  name: "gateway-profile-load",
  config: "wrangler.toml",
  script: await bundleWorker("wrangler.toml", `${WORK}build/gateway-profile-load`, `${WORK}bundle-gateway-profile-load.log`),
  vars: { UPSTREAMS: `${server.base}/slow-5~profile`, ADMIN_TOKEN: adminToken, PROVIDER_ROUTERS: "" },
  persistTo: `${WORK}state/profile-load-${Date.now()}`,
  logFile: `${WORK}gateway-profile-load.log`,
});
try {
  const route = (await loadRoutes(worker, adminToken, block, small))[which]!;
  await autocannon(route, 8, 2); // warm-up
  const devtools = await connectDevtools(worker.inspectorPort);
  await devtools.send("Profiler.enable");
  await devtools.send("Profiler.setSamplingInterval", { interval: 200 });
  await devtools.send("Profiler.start");
  const cpu0 = cpuSeconds(worker.workerdPid);
  const run = await autocannon(route, 8, Number(values.seconds));
  const cpu = cpuSeconds(worker.workerdPid) - cpu0;
  const { profile } = (await devtools.send("Profiler.stop")) as { profile: CpuProfile };
  console.log(`${route.label}: ${run.requestsPerSecond.toFixed(0)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms; workerd CPU ${((100 * cpu) / Number(values.seconds)).toFixed(0)} %`);
  writeFileSync(`${WORK}gateway-load.cpuprofile`, JSON.stringify(profile));
  const times = selfTimes(profile);
  const total = times.reduce((sum, t) => sum + t.ms, 0);
  console.log(`profiled ${total.toFixed(0)} ms of samples; top self time:`);
  for (const t of times.slice(0, 30)) console.log(`${t.ms.toFixed(0).padStart(7)} ms ${((100 * t.ms) / total).toFixed(1).padStart(5)} %  ${t.name}`);
  devtools.close();
} finally {
  await worker.stop();
  await server.close();
}
