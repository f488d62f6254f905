/**
 * The request-rate baseline: a hello-world Worker on the same `wrangler dev`
 * as the gateway (bench/figure-load.ts). What it serves per second is what
 * wrangler dev, loopback and the load client allow with no work at all.
 * Bench only, never deployed.
 */
export default {
  fetch(): Response {
    return new Response("hello\n", { headers: { "Content-Type": "text/plain" } });
  },
} satisfies ExportedHandler;
