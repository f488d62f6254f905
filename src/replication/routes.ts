import { Hono } from "hono";
import { requireAdmin, requireToken, type AuthEnv } from "../accounts/auth";
import { backendConfigs, BackendConfigError } from "../backends/backend-config";
import { loadBackend } from "../backends/backend-registry";
import { BackendError } from "../backends/replication-backend";
import { registryStub } from "../durable-objects/pin-registry";
import { badRequest, HttpError, notFound } from "../http/errors";
import { parseUserCid } from "../pinning/parse-cid";
import { readJson } from "../psa/pin-input";
import type { MigrateSpec } from "./migrate-jobs";
import { verifyReplicas } from "./verify-cron";
import { withFilecoinWatch } from "./filecoin-status";
import { bytes, replicationPolicy, PolicyError } from "./policy";

/**
 * Native replication API under `/api/v1` (docs/replication.md):
 * - `GET /pins/{cid}` (bearer token): unified status of a root, R2 and
 *   every replica with details and log, pessimistic aggregate.
 * - `GET /pins[?limit=&offset=]` (bearer token): the same for every root of the account.
 * - `GET /replicas[?checkedSince=ISO date]` (bearer token): the account's copies counted by backend and state.
 * - `GET /backends` (operator): configured backends and the policy.
 * - `POST /backends/{name}/test` (operator): reachable, authorised, a small round trip.
 * - `POST /backends/verify` (operator): one verification cron run now → `{ scheduled }`.
 * - `POST /migrate` (bearer token) `{ from, to, mode?: "copy"|"move", cids?: [...], filter?: { sizeAbove?, sizeBelow? }, dryRun? }`:
 *   dry run → 200 `{ dryRun, count, roots }`; else 202 the job's progress, `Location: /api/v1/migrate/{id}`.
 * - `GET /migrate/{id}` (bearer token): progress of a job (selected, copied, removed, failed, state).
 */
export const replicationRoutes = new Hono<AuthEnv>();

replicationRoutes.use("/pins", requireToken);
replicationRoutes.use("/pins/*", requireToken);
replicationRoutes.use("/replicas", requireToken);
replicationRoutes.use("/migrate", requireToken);
replicationRoutes.use("/migrate/*", requireToken);
replicationRoutes.use("/backends", requireAdmin);
replicationRoutes.use("/backends/*", requireAdmin);

replicationRoutes.get("/pins/:cid", async (c) => {
  const root = parseUserCid(c.req.param("cid")).toV1().toString();
  const status = await registryStub(c.env, c.get("account")).rootStatus(root);
  if (status === null) throw notFound(`no pin of ${root} in this account`);
  // Filecoin copies: the watch's view (provider, data set, piece, proofs, runway); docs/filecoin.md.
  return c.json(await withFilecoinWatch(c.env, c.get("account"), status));
});

replicationRoutes.get("/pins", async (c) => {
  const limit = intParam(c.req.query("limit"), "limit", 10, 1, 1000);
  const offset = intParam(c.req.query("offset"), "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  return c.json(await registryStub(c.env, c.get("account")).listRootStatus(limit, offset));
});

replicationRoutes.get("/replicas", async (c) => {
  const since = c.req.query("checkedSince");
  const checkedSince = since === undefined ? undefined : Date.parse(since);
  if (checkedSince !== undefined && Number.isNaN(checkedSince)) throw badRequest("checkedSince must be an ISO 8601 date");
  return c.json(await registryStub(c.env, c.get("account")).replicaCounts(checkedSince));
});

replicationRoutes.get("/backends", (c) => {
  const { backends, policy } = configuration(c.env);
  return c.json({
    backends: [...backends.values()].map((b) => ({ name: b.name, type: b.type, settings: b.settings })),
    policy,
  });
});

// `POST /backends/verify`, written as a parameter: Hono's RegExpRouter cannot hold a static
// `/backends/verify` beside `/backends/:name/test`, and one such pair sends every request of the
// worker through its slower TrieRouter (test/http/router.test.ts).
replicationRoutes.post("/backends/:name", async (c) => {
  if (c.req.param("name") !== "verify") return c.notFound();
  // The verification cron's run, now (REPLICA_VERIFY_SAMPLE / REPLICA_VERIFY_MIN_AGE_MS apply).
  return c.json({ scheduled: await verifyReplicas(c.env) });
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

replicationRoutes.post("/migrate", async (c) => {
  const body = await readJson(c.req.raw);
  // A Storacha legacy space as the source: its own job (src/legacy/storacha-migrate.ts, docs/storacha.md).
  if (isObject(body) && body.from === "storacha") return (await import("../legacy/storacha-migrate")).startStorachaMigration(c, body);
  const { spec, dryRun } = parseMigrate(body, c.env);
  const registry = registryStub(c.env, c.get("account"));
  if (dryRun) return c.json({ dryRun: true, ...(await registry.previewMigration(spec, 100)) });
  const job = await registry.startMigration(spec);
  return c.json(job, 202, { Location: `/api/v1/migrate/${job.id}` });
});

replicationRoutes.get("/migrate/:id", async (c) => {
  if (c.req.param("id").startsWith("storacha-")) {
    const storacha = await (await import("../legacy/storacha-migrate")).storachaMigrationProgress(c.env, c.get("account"), c.req.param("id"));
    if (storacha === null) throw notFound("no such migration job in this account");
    return c.json(storacha);
  }
  const job = await registryStub(c.env, c.get("account")).migrationProgress(c.req.param("id"));
  if (job === null) throw notFound("no such migration job in this account");
  return c.json(job);
});

function parseMigrate(body: unknown, env: Env): { spec: MigrateSpec; dryRun: boolean } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("body must be a JSON object");
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!["from", "to", "mode", "cids", "filter", "dryRun"].includes(key)) throw badRequest(`unknown field ${JSON.stringify(key.slice(0, 64))}`);
  const { backends } = configuration(env);
  for (const field of ["from", "to"] as const) {
    if (typeof b[field] !== "string" || !backends.has(b[field] as string)) throw badRequest(`${field} must name a configured backend (${[...backends.keys()].join(", ")})`);
  }
  const from = b.from as string;
  const to = b.to as string;
  if (from === to) throw badRequest("from and to must differ");
  if (to === "r2") throw badRequest("to cannot be r2: R2 holds every pin already");
  const mode = b.mode ?? "copy";
  if (mode !== "copy" && mode !== "move") throw badRequest('mode must be "copy" or "move"');
  if (mode === "move" && from === "r2") throw badRequest("a move cannot take pins out of r2 (the pin's own copy); copy them instead");
  const spec: MigrateSpec = { from, to, mode };
  if (b.cids !== undefined) {
    if (!Array.isArray(b.cids) || b.cids.length === 0 || b.cids.length > 1000) throw badRequest("cids must be a list of 1 to 1000 CIDs");
    spec.cids = [...new Set(b.cids.map((cid) => parseUserCid(typeof cid === "string" ? cid : "", "cids entry").toV1().toString()))];
  }
  if (b.filter !== undefined) {
    if (typeof b.filter !== "object" || b.filter === null || Array.isArray(b.filter)) throw badRequest("filter must be an object");
    const f = b.filter as Record<string, unknown>;
    spec.filter = {};
    for (const key of Object.keys(f)) {
      if (key !== "sizeAbove" && key !== "sizeBelow") throw badRequest(`filter.${key.slice(0, 64)} is not a filter (sizeAbove, sizeBelow)`);
      try {
        spec.filter[key] = bytes(f[key], `filter.${key}`);
      } catch (err) {
        throw badRequest(err instanceof PolicyError ? err.message.replace(/^REPLICATION_POLICY: /, "") : "bad filter");
      }
    }
  }
  if (spec.cids === undefined && spec.filter === undefined) throw badRequest("give cids or a filter (an empty filter {} selects every pin)");
  if (b.dryRun !== undefined && typeof b.dryRun !== "boolean") throw badRequest("dryRun must be a boolean");
  return { spec, dryRun: b.dryRun === true };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

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
