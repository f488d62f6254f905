/**
 * The request-rate baseline: a hello-world Worker on the same `wrangler dev`
 * as the gateway (bench/figure-load.ts). What it serves per second is what
 * wrangler dev, loopback and the load client allow with no work at all;
 * `/log` adds one console.log line (a second yardstick).
 * Bench only, never deployed.
 */
export default {
  fetch(request: Request): Response {
    // `/log`: the same, plus one line on console.log shaped like the gateway's request log
    // (src/observability/log.ts), to show what one log line costs on wrangler dev.
    if (new URL(request.url).pathname === "/log") {
      console.log(JSON.stringify({ ts: new Date().toISOString(), kind: "request", method: request.method, route: "gateway", status: 200, durationMs: 1, bytes: 6, cid: "bafkqabtimvwgy3yk", source: "edge_cache", region: "local" }));
    }
    return new Response("hello\n", { headers: { "Content-Type": "text/plain" } });
  },
} satisfies ExportedHandler;
