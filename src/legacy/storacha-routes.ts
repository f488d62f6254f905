/**
 * Storacha legacy space (docs/storacha.md), mounted at `/api/v1/storacha`:
 *
 * - `GET /uploads[?cursor=&size=1..100]` → `{ space, uploads: [{ root,
 *   insertedAt, updatedAt, shards: [{ cid, piece, filecoin: { aggregates,
 *   deals: [{ aggregate, provider, dealId }] } | null }] }], cursor }`:
 *   one page of `upload/list` (pass `cursor` on for the next) with, for each
 *   shard, its piece and `filecoin/info`.
 *
 * Authorised by the operator's `ADMIN_TOKEN`, or the token of an account
 * named in `STORACHA_ACCOUNTS` (the space is the operator's).
 * `POST /api/v1/migrate` with `{ "from": "storacha" }` is in
 * `storacha-migrate.ts`.
 */
import { Hono } from "hono";
import { bearerToken, requireToken, timingSafeEqualString, type AuthEnv } from "../accounts/auth";
import { badRequest, HttpError } from "../http/errors";
import { storachaConfig, storachaAllows } from "./storacha-config";
import { StorachaError, type StorachaSpace } from "./storacha-space";

export const storachaRoutes = new Hono<AuthEnv>();

storachaRoutes.use("*", async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (token !== null && c.env.ADMIN_TOKEN && timingSafeEqualString(token, c.env.ADMIN_TOKEN)) return next();
  return requireToken(c, async () => {
    if (!storachaAllows(c.env, c.get("account"))) throw new HttpError("forbidden", "this account may not read the Storacha space (STORACHA_ACCOUNTS)");
    await next();
  });
});

storachaRoutes.get("/uploads", async (c) => {
  const size = c.req.query("size") ?? "20";
  if (!/^\d{1,3}$/.test(size) || Number(size) < 1 || Number(size) > 100) throw badRequest("size must be an integer from 1 to 100");
  const cursor = c.req.query("cursor");
  if (cursor !== undefined && (cursor.length === 0 || cursor.length > 512)) throw badRequest("cursor must be the cursor of the previous page");
  const space = await openSpace(c.env);
  const page = await storachaCall(() => space.listUploads(cursor, Number(size)));
  const uploads = [];
  for (const upload of page.results) {
    const shards = [];
    for (const shard of upload.shards) {
      const piece = await storachaCall(() => space.pieceOf(shard));
      const filecoin = piece === null ? null : await storachaCall(() => space.filecoinInfo(piece), true);
      shards.push({ cid: shard, piece, filecoin: filecoin === null ? null : { aggregates: filecoin.aggregates, deals: filecoin.deals } });
    }
    uploads.push({ root: upload.root, insertedAt: upload.insertedAt, updatedAt: upload.updatedAt, shards });
  }
  return c.json({ space: space.did, uploads, cursor: page.cursor ?? null });
});

/** The space of the secrets; bad secrets are the operator's configuration (409), a refused delegation 403. */
export async function openSpace(env: Env): Promise<StorachaSpace> {
  const { openStorachaSpace } = await import("./storacha-client");
  return storachaCall(() => openStorachaSpace(storachaConfig(env)));
}

/** Storacha errors as HTTP errors (src/http/errors.ts); `notFoundIsNull`: a piece the service never saw. */
export async function storachaCall<T>(fn: () => Promise<T>): Promise<T>;
export async function storachaCall<T>(fn: () => Promise<T>, notFoundIsNull: true): Promise<T | null>;
export async function storachaCall<T>(fn: () => Promise<T>, notFoundIsNull = false): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof StorachaError)) throw err;
    if (err.kind === "not_found" && notFoundIsNull) return null;
    throw new HttpError(STATUS[err.kind], err.message);
  }
}

const STATUS = { unauthorized: "forbidden", misconfigured: "conflict", unavailable: "bad_gateway", not_found: "not_found" } as const;
