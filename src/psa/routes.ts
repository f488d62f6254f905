import { Hono, type Context } from "hono";
import { refusedToken, requireMintedToken, requireToken, type AuthEnv } from "../accounts/auth";
import { registryStub } from "../durable-objects/pin-registry";
import { HttpError, notFound } from "../http/errors";
import { isFailure, type PinFilter, type PinRecord, type RegistryFailure } from "../pinning/pin-types";
import { delegateFor, servicePeerId } from "./delegates";
import { parseListFilter } from "./list-filter";
import { parsePin, readJson } from "./pin-input";
import { checkReplicationOverride } from "../replication/override-check";
import { pinStatus } from "./pin-status";
import { filecoinPsaInfo } from "../replication/filecoin-status";
import { CID } from "multiformats/cid";
import { psaErrorResponse } from "./psa-errors";

/**
 * IPFS Pinning Service API v1.0.0 (ipfs-pinning-service.yaml), mounted at
 * `/psa`. Each account's pins live in its own PinRegistry object.
 */
export const psaRoutes = new Hono<AuthEnv>();

psaRoutes.onError((err, c) => psaErrorResponse(err, c));
// Every route requires an API token (src/accounts/auth.ts). The list, registered before the
// `requireToken` middleware below and answering without calling on, checks that its account still
// holds the token in the same PinRegistry call as the listing (one RPC per list, not two).
psaRoutes.get("/pins", requireMintedToken, async (c) => {
  let filter: PinFilter;
  try {
    filter = parseListFilter(new URL(c.req.url));
  } catch (err) {
    // A revoked token is told so, not what is wrong with its query.
    if (!(await registry(c).hasToken(c.get("tokenHash")))) throw refusedToken();
    throw err;
  }
  const body = await registry(c).listPinsWithToken(c.get("tokenHash"), filter, await delegatesOf(c));
  if (body === null) throw refusedToken();
  return new Response(body, { headers: { "Content-Type": "application/json" } });
});

psaRoutes.use("*", requireToken);

psaRoutes.post("/pins", async (c) => {
  const { input, root } = parsePin(await readJson(c.req.raw));
  checkReplicationOverride(c.env, input.meta);
  const record = unwrap(await registry(c).createPin(input, root));
  return c.json(pinStatus(record, await delegatesOf(c)), 202);
});

psaRoutes.get("/pins/:requestid", async (c) => {
  const record = await registry(c).getPin(c.req.param("requestid"));
  if (record === null) throw notFound("The specified resource was not found");
  // Its Filecoin copies as the watch sees them (docs/filecoin.md "Unified status"); one watch call, only for such pins.
  Object.assign(record.info, await filecoinPsaInfo(c.env, c.get("account"), CID.parse(record.pin.cid).toV1().toString(), record.info));
  return c.json(pinStatus(record, await delegatesOf(c)));
});

psaRoutes.post("/pins/:requestid", async (c) => {
  const { input, root } = parsePin(await readJson(c.req.raw));
  checkReplicationOverride(c.env, input.meta);
  const record = unwrap(await registry(c).replacePin(c.req.param("requestid"), input, root));
  return c.json(pinStatus(record, await delegatesOf(c)), 202);
});

psaRoutes.delete("/pins/:requestid", async (c) => {
  if (!(await registry(c).deletePin(c.req.param("requestid")))) throw notFound("The specified resource was not found");
  return c.body(null, 202);
});

psaRoutes.all("*", () => {
  throw notFound("The specified resource was not found");
});

function registry(c: Context<AuthEnv>) {
  return registryStub(c.env, c.get("account"));
}

async function delegatesOf(c: Context<AuthEnv>): Promise<string[]> {
  return [delegateFor(new URL(c.req.url), await servicePeerId(c.env))];
}

/** A registry failure as the HttpError it stands for. */
export function unwrap(result: PinRecord | RegistryFailure): PinRecord {
  if (!isFailure(result)) return result;
  const kind = result.failure === "insufficient_funds" ? "conflict" : result.failure;
  throw new HttpError(kind, result.message);
}
