import { Hono } from "hono";
import { requireAdmin, requireToken, type AuthEnv } from "../accounts/auth";
import { backendConfigs, BackendConfigError } from "../backends/backend-config";
import { loadBackend } from "../backends/backend-registry";
import { BackendError } from "../backends/replication-backend";
import { registryStub } from "../durable-objects/pin-registry";
import { badRequest, HttpError, notFound } from "../http/errors";
import { parseUserCid } from "../pinning/parse-cid";
import { replicationPolicy, PolicyError } from "./policy";

/**
 * Native replication API under `/api/v1` (docs/replication.md):
 * - `GET /pins/{cid}` (bearer token): unified status of a root, R2 and
 *   every replica with details and log, pessimistic aggregate.
 * - `GET /pins[?limit=&offset=]` (bearer token): the same for every root of the account.
 * - `GET /backends` (operator): configured backends and the policy.
 * - `POST /backends/{name}/test` (operator): reachable, authorised, a small round trip.
 */
export const replicationRoutes = new Hono<AuthEnv>();

replicationRoutes.use("/pins", requireToken);
replicationRoutes.use("/pins/*", requireToken);
replicationRoutes.use("/backends", requireAdmin);
replicationRoutes.use("/backends/*", requireAdmin);

replicationRoutes.get("/pins/:cid", async (c) => {
  const root = parseUserCid(c.req.param("cid")).toV1().toString();
  const status = await registryStub(c.env, c.get("account")).rootStatus(root);
  if (status === null) throw notFound(`no pin of ${root} in this account`);
  return c.json(status);
});

replicationRoutes.get("/pins", async (c) => {
  const limit = intParam(c.req.query("limit"), "limit", 10, 1, 1000);
  const offset = intParam(c.req.query("offset"), "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  return c.json(await registryStub(c.env, c.get("account")).listRootStatus(limit, offset));
});

replicationRoutes.get("/backends", (c) => {
  const { backends, policy } = configuration(c.env);
  return c.json({
    backends: [...backends.values()].map((b) => ({ name: b.name, type: b.type, settings: b.settings })),
    policy,
  });
});

replicationRoutes.post("/backends/:name/test", async (c) => {
  const name = c.req.param("name");
  if (!configuration(c.env).backends.has(name)) throw notFound(`no backend named ${JSON.stringify(name.slice(0, 64))} is configured`);
  let backend;
  try {
    backend = await loadBackend(c.env, name);
  } catch (err) {
    // A type missing from this build or unusable settings: the operator's configuration, said plainly.
    throw new HttpError("conflict", err instanceof BackendError ? err.message : "the backend cannot be built");
  }
  return c.json({ name, type: backend.type, ...(await backend.test()) });
});

function configuration(env: Env) {
  try {
    return { backends: backendConfigs(env), policy: replicationPolicy(env) };
  } catch (err) {
    if (err instanceof BackendConfigError || err instanceof PolicyError) throw new HttpError("conflict", err.message);
    throw err;
  }
}

function intParam(value: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw badRequest(`${name} must be an integer from ${min} to ${max}`);
  return Number(value);
}
