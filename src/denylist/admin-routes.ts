/**
 * Operator API of the denylist, mounted at `/api/v1/denylist`, behind
 * `Authorization: Bearer <ADMIN_TOKEN>` (constant-time compare in
 * `requireAdmin`). docs/denylist.md, "Admin API".
 *
 * - `POST /`        `{ "entry": "/ipfs/…", "status"?: 410 | 451 }` → 201 the entry
 * - `GET /`         → `{ "entries": [...] }` the operator's entries
 * - `DELETE /:id`   → 204, or 404
 * - `GET /lists`    → `{ "lists": [...] }` state of each configured list
 *
 * An entry takes effect in every isolate at its next snapshot re-check
 * (≤ 30 s, isolate-matcher.ts).
 */
import { Hono } from "hono";
import { requireAdmin } from "../accounts/auth";
import { badRequest, HttpError, notFound } from "../http/errors";
import { denylistObject, type OperatorEntry } from "./denylist-object";
import { parseRule, parseStatus } from "./rule";
import { readBounded } from "../http/read-bounded";

const MAX_BODY_BYTES = 8 * 1024;
const MAX_ENTRY_CHARS = 4096;

export const denylistAdminRoutes = new Hono<{ Bindings: Env }>();

denylistAdminRoutes.use("*", requireAdmin);

denylistAdminRoutes.post("/", async (c) => {
  const body = await readJson(c.req.raw);
  const entry = body.entry;
  if (typeof entry !== "string" || entry.trim() === "") throw badRequest('"entry" must be a non-empty string');
  if (entry.length > MAX_ENTRY_CHARS || /[\r\n]/.test(entry)) throw badRequest(`"entry" must be one line of at most ${MAX_ENTRY_CHARS} characters`);
  const status = body.status === undefined ? 410 : parseStatus(typeof body.status === "number" ? body.status : NaN);
  if (status === undefined) throw badRequest('"status" must be 410 or 451');
  const parsed = parseRule(entry);
  if ("error" in parsed) throw badRequest(`invalid denylist entry: ${parsed.reason}`);

  const added = (await denylistObject(c.env).addEntry(entry.trim(), parsed.status ?? status)) as OperatorEntry | { error: string };
  if ("error" in added) throw new HttpError("conflict", added.error);
  return c.json(added, 201);
});

denylistAdminRoutes.get("/", async (c) => {
  const entries = (await denylistObject(c.env).listEntries()) as OperatorEntry[];
  return c.json({ entries });
});

denylistAdminRoutes.get("/lists", async (c) => {
  return c.json({ lists: await denylistObject(c.env).listStatus() });
});

denylistAdminRoutes.delete("/:id", async (c) => {
  const id = c.req.param("id");
  if (!/^[1-9][0-9]{0,15}$/.test(id)) throw badRequest("entry id must be a positive integer");
  if (!(await denylistObject(c.env).deleteEntry(Number(id)))) throw notFound(`no denylist entry ${id}`);
  return c.body(null, 204);
});

async function readJson(request: Request): Promise<Record<string, unknown>> {
  if (!(request.headers.get("Content-Type") ?? "").toLowerCase().startsWith("application/json")) {
    throw new HttpError("bad_request", "Content-Type must be application/json");
  }
  const bytes = await readBounded(request, MAX_BODY_BYTES);
  if (bytes === undefined) throw new HttpError("payload_too_large", `body larger than ${MAX_BODY_BYTES} bytes`);
  const text = new TextDecoder().decode(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("body must be a JSON object");
  return value as Record<string, unknown>;
}
