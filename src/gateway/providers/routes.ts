import { Hono } from "hono";
import { CID } from "multiformats/cid";
import type { AppEnv } from "../../worker";
import { badRequest } from "../../http/errors";
import { safeText } from "../request/content-path";
import { findProviders } from "./find-providers";

/**
 * `GET /api/v1/providers/{cid}`: what provider discovery finds for a CID
 * (docs/architecture.md "Provider discovery"): the HTTP gateway providers
 * the delegated routers of `PROVIDER_ROUTERS` named, each router's status,
 * and how long the answer is reused. Read-only, no authentication (the same
 * answer anyone gets from the routers themselves). Uses the same caches as
 * the gateway, so it shows what a gateway request would use right now.
 *
 * @example GET /api/v1/providers/bafy… → 200 { "cid": "bafy…", "providers": [{ "id", "url", "addr", "router" }], "routers": [...], "foundAt", "expiresAt", "source" }
 */
export const providerRoutes = new Hono<AppEnv>();

providerRoutes.get("/:cid", async (c) => {
  const text = c.req.param("cid");
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch {
    throw badRequest(`"${safeText(text)}" is not a valid CID`);
  }
  const answer = await findProviders(c.env, cid, { cacheOrigin: new URL(c.req.url).origin, waitUntil: (p) => c.executionCtx.waitUntil(p) });
  return c.json({ ...answer, foundAt: new Date(answer.foundAt).toISOString(), expiresAt: new Date(answer.expiresAt).toISOString() }, 200, {
    "Cache-Control": "no-store",
  });
});
