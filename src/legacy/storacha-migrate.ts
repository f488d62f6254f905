import type { Context } from "hono";
import type { AuthEnv } from "../accounts/auth";
import { badRequest, HttpError } from "../http/errors";
import { storachaAllows } from "./storacha-config";
import { storachaImportStub } from "./storacha-import";
import { openSpace, storachaCall } from "./storacha-routes";
import { StorachaError } from "./storacha-space";

/**
 * `POST /api/v1/migrate` with `{ "from": "storacha", "dryRun"? }` (the
 * account's bearer token; the account must be in `STORACHA_ACCOUNTS`):
 * the delegation is checked first with one `upload/list` (a forged or
 * foreign delegation is a 403 and creates nothing), then a job starts in
 * the account's `StorachaImport` object: 202 and `Location:
 * /api/v1/migrate/{id}`. A service that cannot be reached at that moment
 * still starts the job, which retries. `dryRun`: the first page of roots.
 */
export async function startStorachaMigration(c: Context<AuthEnv>, body: Record<string, unknown>): Promise<Response> {
  for (const key of Object.keys(body)) if (!["from", "dryRun"].includes(key)) throw badRequest(`unknown field ${JSON.stringify(key.slice(0, 64))} for a Storacha migration (from, dryRun)`);
  if (body.dryRun !== undefined && typeof body.dryRun !== "boolean") throw badRequest("dryRun must be a boolean");
  const account = c.get("account");
  if (!storachaAllows(c.env, account)) throw new HttpError("forbidden", "this account may not migrate the Storacha space (STORACHA_ACCOUNTS)");
  const space = await openSpace(c.env);
  if (body.dryRun === true) {
    const page = await storachaCall(() => space.listUploads(undefined, 100));
    return c.json({ dryRun: true, source: "storacha", space: space.did, roots: page.results.map((u) => u.root), more: page.cursor !== undefined });
  }
  try {
    await space.listUploads(undefined, 1);
  } catch (err) {
    // Refused or misconfigured: nothing is created. Unreachable: the job will retry.
    if (!(err instanceof StorachaError) || err.kind !== "unavailable") await storachaCall(() => Promise.reject(err));
  }
  const job = await storachaImportStub(c.env, account).start(space.did);
  return c.json(job, 202, { Location: `/api/v1/migrate/${job.id}` });
}

/** `GET /api/v1/migrate/{id}` of a Storacha job, or null when `id` is not one. */
export async function storachaMigrationProgress(env: Env, account: string, id: string) {
  if (!/^storacha-[0-9a-f-]{36}$/.test(id)) return null;
  return storachaImportStub(env, account).progress(id);
}
