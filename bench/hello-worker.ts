/**
 * The request-rate baseline: a hello-world Worker on the same `wrangler dev`
 * as the gateway (bench/figure-load.ts). What it serves per second is what
 * wrangler dev, loopback and the load client allow with no work at all;
 * `/log` adds one console.log line, `/cache-hit` is the least an edge-cache
 * hit can do (other yardsticks).
 * Bench only, never deployed.
 */
/** A request log line shaped like the gateway's (src/observability/log.ts). */
function logLine(request: Request, bytes: number): void {
  console.log(JSON.stringify({ ts: new Date().toISOString(), kind: "request", method: request.method, route: "gateway", status: 200, durationMs: 1, bytes, cid: "bafkqabtimvwgy3yk", source: "edge_cache", region: "local" }));
}

/**
 * `/cache-hit?bytes=N`: the least an edge-cache hit can do, one Cache API
 * match of an N-byte entry (asked as `bytes=0-`, as the gateway asks) whose
 * body is returned as it is; the entry is stored by the first request.
 */
async function cacheHit(request: Request, url: URL): Promise<Response> {
  const size = Number(url.searchParams.get("bytes") ?? 262144);
  const key = new Request(`${url.origin}/__cache-hit/${size}`);
  const hit = await caches.default.match(new Request(key, { headers: { Range: "bytes=0-" } }));
  if (hit?.status === 206 && hit.body !== null) {
    if (url.pathname === "/cache-hit-log") logLine(request, size);
    return new Response(hit.body, { status: 200, headers: { "Content-Type": "application/vnd.ipld.raw", "Content-Length": String(size) } });
  }
  await hit?.body?.cancel();
  // Random bytes, like a block's: a load client that decoded bodies would pay for these what it pays for the gateway's.
  const body = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(body.subarray(at, Math.min(size, at + 65536)));
  await caches.default.put(key, new Response(body, { headers: { "Content-Type": "application/vnd.ipld.raw", "Content-Length": String(size), "Cache-Control": "public, max-age=29030400, immutable" } }));
  return new Response(body, { headers: { "Content-Type": "application/vnd.ipld.raw" } });
}

export default {
  fetch(request: Request): Response | Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/cache-hit" || url.pathname === "/cache-hit-log") return cacheHit(request, url);
    // `/log`: the same, plus one log line, to show what one line costs on wrangler dev.
    if (url.pathname === "/log") logLine(request, 6);
    return new Response("hello\n", { headers: { "Content-Type": "text/plain" } });
  },
} satisfies ExportedHandler;
