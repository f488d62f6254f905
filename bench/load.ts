/**
 * `npm run bench:load`: figure 8 alone (bench/figure-load.ts) on fresh
 * workers: the gateway (its upstream 5 ms away: personality slow-5) and a
 * hello-world Worker.
 *
 *   node --import ./bench/resolve-ts.mjs bench/load.ts [--seconds 5] [--profile route-label]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { formatLoad, loadFigure } from "./figure-load.ts";
import { cpuSeconds } from "./stats.ts";
import { clientCeilingRoute, loadRoutes } from "./load-routes.ts";
import { buildFile } from "./synthetic-dag.ts";
import { descendants, startBenchWorker, type WranglerDev } from "./wrangler-dev.ts";

/** A process that exited meanwhile counts nothing. */
const cpuOrZero = (pid: number): number => {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
};
const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" } } });
const log = (m: string) => process.stderr.write(`[load ${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);

const loadStart = loadavg();
const server = await startTrustlessGatewayServer({ fixturesDir: null });
const block = buildFile({ size: 256 * 1024, chunkSize: 256 * 1024, seed: 31, keepLeaves: true });
const small = buildFile({ size: 200 * 1024, chunkSize: 64 * 1024, seed: 32, keepLeaves: true });
server.addBlockSource(block.getter);
server.addBlockSource(small.getter);
const adminToken = `load-${process.pid}-${Date.now()}`;
const gateway = await startBenchWorker("load-gateway", "wrangler.toml", { UPSTREAMS: `${server.base}/slow-5~load`, ADMIN_TOKEN: adminToken, PROVIDER_ROUTERS: "" });
let hello: WranglerDev | undefined;
let passthrough: WranglerDev | undefined;
try {
  hello = await startBenchWorker("load-hello", "bench/hello.wrangler.toml", {});
  // The CAR yardstick: the same upstream, 5 ms away, asked every time (bench/load-routes.ts).
  passthrough = await startBenchWorker("load-passthrough", "bench/passthrough.wrangler.toml", { UPSTREAM: `${server.base}/slow-5~loadpt` });
  // CPU per request of the processes serving each route: wrangler (Node, it also receives every console.log line), its proxy and runtime workerd.
  const cpuOf = (w: { pid: number }) => () => [w.pid, ...descendants(w.pid).map((d) => d.pid)].reduce((sum, pid) => sum + cpuOrZero(pid), 0);
  const helloLog = { label: "hello-world Worker + one console.log line (yardstick)", url: `${hello.url}/log`, cpu: cpuOf(hello), yardstick: true };
  const bareHit = { label: "bare Cache API hit, 256 KiB (hello Worker: one match, body returned as is; yardstick)", url: `${hello.url}/cache-hit?bytes=262144`, cpu: cpuOf(hello), yardstick: true };
  const bareHitLog = { ...bareHit, label: "the same bare hit + one console.log line (yardstick)", url: `${hello.url}/cache-hit-log?bytes=262144` };
  for (const path of ["/cache-hit?bytes=262144", "/cache-hit-log?bytes=262144"]) await (await fetch(`${hello.url}${path}`)).arrayBuffer();
  const routes = [clientCeilingRoute(server.base, block), helloLog, bareHit, bareHitLog, ...(await loadRoutes(gateway, adminToken, block, small, passthrough)).map((r) => ({ ...r, cpu: cpuOf(r.url.startsWith(passthrough!.url) ? passthrough! : gateway) }))];
  const figure = await loadFigure(`${hello.url}/`, routes, log, 8, Number(values.seconds), cpuOf(hello));
  process.stdout.write(`load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at start, ${loadavg().map((x) => x.toFixed(2)).join(" ")} at end\n`);
  process.stdout.write(formatLoad(figure));
} finally {
  await gateway.stop();
  await hello?.stop();
  await passthrough?.stop();
  await server.close();
}
