import { Hono } from "hono";
import type { AppEnv } from "../worker";
import { badRequest } from "../http/errors";
import { serveCar } from "./handlers/car-stream";
import { serveDagCodec } from "./handlers/dag-codec";
import { serveDeserialized } from "./handlers/deserialized";
import { corsHeaders, preflight } from "./handlers/cors";
import { serveRawBlock } from "./handlers/raw-block";
import { serveTar } from "./handlers/tar";
import { parseGatewayRequest } from "./request/gateway-request";
import { edgeCacheMaxBytes, fromEdgeCache, intoEdgeCache } from "./cache/edge-cache";
import { edgeCacheCarMaxBytes } from "./cache/car-copy";
import { openTieredSource } from "./tiers/open-tiered-source";
import { requestTrace } from "../metrics/request-metrics";

/**
 * The gateway's HTTP surface: GET/HEAD/OPTIONS /ipfs/{cid}[/path]. The
 * response format is decided once (request/response-format.ts) and
 * dispatched to one handler per format.
 */
export const gatewayRoutes = new Hono<AppEnv>();

gatewayRoutes.options("/ipfs/*", () => preflight());

gatewayRoutes.on(["GET", "HEAD"], "/ipfs/*", async (c) => {
  const req = parseGatewayRequest(c.req.raw);
  // What the metrics middleware counts for this response (src/metrics/request-metrics.ts).
  const trace = requestTrace(c.executionCtx);
  if (trace) trace.cid = req.path.root.toString();
  // Edge cache first, then R2, then upstreams, then IPNI providers (docs/architecture.md "Edge cache and the R2 tier").
  const cached = await fromEdgeCache(req, c.req.raw, (p) => c.executionCtx.waitUntil(p));
  if (cached) {
    if (trace) trace.source = "edge_cache";
    return withCors(cached);
  }
  trace?.expectBody();
  const { session, finish, pool } = openTieredSource(c.env, (p) => c.executionCtx.waitUntil(p), c.req.raw, req, (s) =>
    trace?.bodyEnded(s.mode === "undecided" ? "none" : s.mode, s.bytes),
  );
  let response: Response;
  // A handler calls done() once its response is complete (or, for a stream, once the body ends):
  // `false` when it did not read everything its upstream stream carries (aborted, neutral for health).
  const done = (complete: boolean) => (complete ? finish() : (session.abort(), finish()));
  try {
    switch (req.format.kind) {
      case "raw":
        response = await serveRawBlock(req, session);
        finish();
        break;
      case "car":
        response = await serveCar(req, session, done, pool);
        break;
      case "dag-json":
      case "dag-cbor":
      case "json":
      case "cbor":
        response = await serveDagCodec(req, session, done);
        break;
      case "tar":
        response = await serveTar(req, session, done);
        break;
      case "ipns-record":
        // path-gateway.md#accept-request-header: "400 Bad Request if the content is not under the IPNS namespace".
        throw badRequest("application/vnd.ipfs.ipns-record is only served for /ipns/{name} without a path");
      case "html":
      case "default":
        response = await serveDeserialized(req, session, done, pool);
        break;
    }
  } catch (err) {
    session.abort();
    finish();
    throw err;
  }
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  return withCors(intoEdgeCache(req, c.req.raw, response, waitUntil, edgeCacheMaxBytes(c.env.EDGE_CACHE_MAX_BYTES), edgeCacheCarMaxBytes(c.env.EDGE_CACHE_CAR_MAX_BYTES)));
});

function withCors(res: Response): Response {
  for (const [k, v] of Object.entries(corsHeaders)) res.headers.set(k, v);
  return res;
}
