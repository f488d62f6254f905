import { Hono } from "hono";
import type { AppEnv } from "../worker";
import { HttpError } from "../http/errors";
import { serveCar } from "./handlers/car-stream";
import { corsHeaders, preflight } from "./handlers/cors";
import { serveRawBlock } from "./handlers/raw-block";
import { parseGatewayRequest } from "./request/gateway-request";
import { openSession } from "./upstream/open-session";

/**
 * The gateway's HTTP surface: GET/HEAD/OPTIONS /ipfs/{cid}[/path]. The
 * response format is decided once (request/response-format.ts) and
 * dispatched to one handler per format.
 */
export const gatewayRoutes = new Hono<AppEnv>();

gatewayRoutes.options("/ipfs/*", () => preflight());

gatewayRoutes.on(["GET", "HEAD"], "/ipfs/*", async (c) => {
  const req = parseGatewayRequest(c.req.raw);
  const { session, finish } = openSession(c.env, (p) => c.executionCtx.waitUntil(p), { request: c.req.raw });
  let response: Response;
  try {
    switch (req.format.kind) {
      case "raw":
        response = await serveRawBlock(req, session);
        finish();
        break;
      case "car":
        response = await serveCar(req, session, (ok) => (ok ? finish() : (session.abort(), finish())));
        break;
      default:
        finish();
        throw new HttpError(
          "not_acceptable",
          `this gateway serves verified trustless responses: ask for application/vnd.ipld.raw or application/vnd.ipld.car (format=raw|car); "${req.format.kind}" responses are not available`,
        );
    }
  } catch (err) {
    session.abort();
    finish();
    throw err;
  }
  return withCors(response);
});

function withCors(res: Response): Response {
  for (const [k, v] of Object.entries(corsHeaders)) res.headers.set(k, v);
  return res;
}
