/**
 * Figure 8: requests per second under loopback load, 8 connections for 5 s
 * per route, against a hello-world Worker on the same `wrangler dev` in the
 * same run (bench/hello-worker.ts; measured before and after the routes,
 * the baseline is the mean of both), after 1 s of untimed load on each. The load client is
 * bench/load-client.mjs in its own process (keep-alive connections, bytes
 * counted, never decoded), so it competes neither with the upstream server
 * nor with the bench's event loop; its own row against a Node server
 * sending the same 256 KiB block shows it is far faster than any worker
 * route (FACTS.md: wrangler dev itself costs ~10 ms a request here).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const LOAD_CLIENT = fileURLToPath(new URL("./load-client.mjs", import.meta.url));

export interface LoadRun {
  label: string;
  url: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  non2xx: number;
  /** CPU ms per request of the processes serving it (route `cpu`), when measured. */
  cpuMsPerRequest?: number;
  /** A second baseline (route `yardstick`): ratio shown, no target. */
  yardstick?: boolean;
}

export interface LoadFigure {
  connections: number;
  seconds: number;
  hello: LoadRun[];
  /** Mean of the hello-world runs. */
  helloRps: number;
  routes: LoadRun[];
}

export interface LoadRoute {
  label: string;
  url: string;
  headers?: Record<string, string>;
  /** CPU seconds used so far by the processes that serve this route (wrangler, its proxy and runtime workerd). */
  cpu?: () => number;
  /** A baseline of its own (e.g. hello-world plus one log line): its ratio is shown, with no target. */
  yardstick?: boolean;
}

/** One timed run of a route, with the CPU its serving processes spent per request when `route.cpu` is given. */
async function timed(route: LoadRoute, connections: number, seconds: number): Promise<LoadRun> {
  const cpu0 = route.cpu?.();
  const run = await loadRun(route, connections, seconds);
  const cpu = cpu0 === undefined ? undefined : route.cpu!() - cpu0;
  return { ...run, yardstick: route.yardstick, cpuMsPerRequest: cpu === undefined || run.requests === 0 ? undefined : (cpu * 1000) / run.requests };
}

/** What bench/load-client.mjs prints. */
export interface LoadClientJson {
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  bytes: number;
}

/** One run of the load client on a route: `connections` keep-alive connections for `seconds`. */
export function loadRun(route: LoadRoute, connections: number, seconds: number, method = "GET"): Promise<LoadRun> {
  const args = [LOAD_CLIENT, "--connections", String(connections), "--seconds", String(seconds), "--method", method];
  for (const [k, v] of Object.entries(route.headers ?? {})) args.push("--header", `${k}=${v}`);
  args.push(route.url);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`load client ${route.url}: ${error.message} ${stderr}`));
      const r = JSON.parse(stdout) as LoadClientJson;
      resolve({
        label: route.label,
        url: route.url,
        requestsPerSecond: r.requests / r.seconds,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        requests: r.requests,
        errors: r.errors,
        non2xx: r.non2xx,
      });
    });
  });
}

export async function loadFigure(hello: string, routes: LoadRoute[], log: (m: string) => void, connections = 8, seconds = 5, helloCpu?: () => number): Promise<LoadFigure> {
  const runs: LoadRun[] = [];
  const helloRuns: LoadRun[] = [];
  const helloRoute: LoadRoute = { label: "hello-world Worker", url: hello, cpu: helloCpu };
  // Warm-up, untimed: 1 s of load on every route (JIT, isolate-local state such as the denylist matcher and health view).
  for (const route of [helloRoute, ...routes]) await loadRun(route, connections, 1);
  helloRuns.push(await timed(helloRoute, connections, seconds));
  log(`  hello-world: ${helloRuns[0]!.requestsPerSecond.toFixed(0)} req/s`);
  for (const route of routes) {
    const run = await timed(route, connections, seconds);
    log(`  ${route.label}: ${run.requestsPerSecond.toFixed(0)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, errors ${run.errors}, non-2xx ${run.non2xx}`);
    runs.push(run);
  }
  helloRuns.push(await timed(helloRoute, connections, seconds));
  log(`  hello-world again: ${helloRuns[1]!.requestsPerSecond.toFixed(0)} req/s`);
  return { connections, seconds, hello: helloRuns, helloRps: helloRuns.reduce((n, r) => n + r.requestsPerSecond, 0) / helloRuns.length, routes: runs };
}

export const LOAD_TARGET = 0.5;

export function formatLoad(f: LoadFigure): string {
  const withCpu = [...f.hello, ...f.routes].some((r) => r.cpuMsPerRequest !== undefined);
  const cpu = (r: LoadRun) => (withCpu ? ` ${r.cpuMsPerRequest === undefined ? "—" : r.cpuMsPerRequest.toFixed(1)} |` : "");
  const row = (r: LoadRun, ratio: string, target: string, verdict: string) =>
    `| ${r.label} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms} / ${r.p99Ms} | ${r.errors + r.non2xx} |${cpu(r)} ${ratio} | ${target} | ${verdict} |`;
  const lines = [
    `8. Requests per second, ${f.connections} connections × ${f.seconds} s per route (bench/load-client.mjs, keep-alive), against a hello-world Worker on the same wrangler dev:`,
    "",
    `| route | req/s | p50 / p99 ms | errors + non-2xx |${withCpu ? " CPU ms / request (wrangler + proxy + runtime) |" : ""} of hello-world | target | |`,
    `|---|---|---|---|${withCpu ? "---|" : ""}---|---|---|`,
    ...f.hello.map((r, i) => row({ ...r, label: i === 0 ? "hello-world Worker (before the routes)" : "hello-world Worker (after the routes)" }, "—", "—", "—")),
  ];
  for (const r of f.routes) {
    const ratio = r.requestsPerSecond / f.helloRps;
    if (r.yardstick) {
      lines.push(row(r, ratio.toFixed(2), "—", "—"));
      continue;
    }
    const ok = ratio >= LOAD_TARGET && r.errors + r.non2xx === 0;
    lines.push(row(r, ratio.toFixed(2), `≥ ${LOAD_TARGET}, no errors`, ok ? "met" : "**missed**"));
  }
  lines.push("");
  return lines.join("\n");
}
