/**
 * Operator API of the Filecoin watch, mounted at `/api/v1/filecoin`, behind
 * `Authorization: Bearer <ADMIN_TOKEN>` (docs/filecoin.md "Operator API"):
 *
 * - `POST /deals` `{ "root": CID, "dealId": n, "account"?: id }` → 201
 *   `{ "id" }`: a classic deal holding `root` goes under watch (renewed by
 *   the engine before it ends). One copy per deal and root (an aggregate
 *   deal holds many roots); the same deal and root again is the same copy.
 * - `GET /copies?root=CID` → `{ "copies": [...] }` every watched copy of
 *   the root (provider, data set, piece, proof, state, last and next check)
 *   with its actions.
 * - `DELETE /copies/:id` → 204, or 404.
 * - `GET /funding` → `{ "events": [...] }` deposits and alerts.
 */
import { Hono } from "hono";
import { CID } from "multiformats/cid";
import { requireAdmin } from "../../accounts/auth";
import { badRequest, HttpError, notFound } from "../../http/errors";
import { readBounded } from "../../http/read-bounded";
import { filecoinWatch } from "../../cron/filecoin-watch";
import { watchClassicDeal } from "./classic-deal";

const MAX_BODY_BYTES = 4 * 1024;

export const filecoinWatchRoutes = new Hono<{ Bindings: Env }>();

filecoinWatchRoutes.use("*", requireAdmin);

filecoinWatchRoutes.post("/deals", async (c) => {
  const body = await readJson(c.req.raw);
  const root = parseRoot(body.root);
  const dealId = typeof body.dealId === "number" ? String(body.dealId) : body.dealId;
  if (typeof dealId !== "string" || !/^[0-9]{1,15}$/.test(dealId)) throw badRequest('"dealId" must be a non-negative integer');
  const account = body.account;
  if (account !== undefined && (typeof account !== "string" || !/^[A-Za-z0-9_-]{1,128}$/.test(account))) {
    throw badRequest('"account" must be an account id (letters, digits, - and _)');
  }
  const id = await watchClassicDeal(c.env, { root, dealId, account: account ?? null });
  return c.json({ id }, 201);
});

filecoinWatchRoutes.get("/copies", async (c) => {
  const root = parseRoot(c.req.query("root"));
  const watch = filecoinWatch(c.env);
  const copies = await watch.copies(root);
  const withActions = [];
  for (const copy of copies) withActions.push({ ...copy, actions: await watch.actions(copy.id) });
  return c.json({ copies: withActions });
});

filecoinWatchRoutes.delete("/copies/:id", async (c) => {
  const id = c.req.param("id");
  if (id.length > 512) throw badRequest("copy id too long");
  if (!(await filecoinWatch(c.env).unwatch(id, "removed by the operator"))) throw notFound(`no watched copy ${id}`);
  return c.body(null, 204);
});

filecoinWatchRoutes.get("/funding", async (c) => {
  return c.json({ events: await filecoinWatch(c.env).funding() });
});

function parseRoot(value: unknown): string {
  if (typeof value !== "string" || value.length > 200) throw badRequest('"root" must be a CID');
  try {
    return CID.parse(value).toV1().toString();
  } catch {
    throw badRequest('"root" must be a CID');
  }
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  if (!(request.headers.get("Content-Type") ?? "").toLowerCase().startsWith("application/json")) {
    throw new HttpError("bad_request", "Content-Type must be application/json");
  }
  const bytes = await readBounded(request, MAX_BODY_BYTES);
  if (bytes === undefined) throw new HttpError("payload_too_large", `body larger than ${MAX_BODY_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw badRequest("body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("body must be a JSON object");
  return value as Record<string, unknown>;
}
