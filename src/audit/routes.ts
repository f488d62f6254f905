/**
 * `GET /api/v1/audit[?account=&before=&limit=&action=]`: an account's audit
 * trail, newest first (src/audit/audit-log.ts), as
 * `{ account, entries: [...], next }` where `next` is the `before` of the
 * following page (null at the end).
 *
 * An API token reads its own account (`account` may be omitted or must
 * name it); the operator (`ADMIN_TOKEN`) names any account.
 */
import { Hono } from "hono";
import { bearerToken, timingSafeEqualString } from "../accounts/auth";
import { hashToken, tokenAccount } from "../accounts/token-hash";
import { accountsStub } from "../durable-objects/accounts";
import { registryStub } from "../durable-objects/pin-registry";
import { badRequest, HttpError, notFound } from "../http/errors";
import { MAX_AUDIT_PAGE, type AuditAction } from "./audit-log";

const ACTIONS: ReadonlySet<AuditAction> = new Set([
  "pin.create", "pin.replace", "pin.delete", "pin.upload", "pin.pinned", "pin.failed",
  "token.mint", "token.revoke", "limits.set", "webhook_secrets.set",
]);

export const auditRoutes = new Hono<{ Bindings: Env }>();

auditRoutes.get("/audit", async (c) => {
  const token = bearerToken(c.req.header("Authorization"));
  const named = c.req.query("account");
  const unauthorized = () => new HttpError("unauthorized", "Access token is missing or invalid", { "WWW-Authenticate": "Bearer" });
  if (token === null) throw unauthorized();
  let account: string;
  if (c.env.ADMIN_TOKEN && timingSafeEqualString(token, c.env.ADMIN_TOKEN)) {
    if (!named) throw badRequest("account is required with the operator token");
    if (!(await accountsStub(c.env).accountExists(named))) throw notFound("no such account");
    account = named;
  } else {
    const own = tokenAccount(token);
    if (own === null || !(await registryStub(c.env, own).hasToken(await hashToken(token)))) throw unauthorized();
    if (named !== undefined && named !== own) throw new HttpError("forbidden", "an API token reads its own account's audit trail only");
    account = own;
  }
  const limit = integer(c.req.query("limit"), "limit", 100);
  if (limit < 1 || limit > MAX_AUDIT_PAGE) throw badRequest(`limit must be 1 to ${MAX_AUDIT_PAGE}`);
  const before = c.req.query("before") === undefined ? undefined : integer(c.req.query("before"), "before", 0);
  const action = c.req.query("action");
  if (action !== undefined && !ACTIONS.has(action as AuditAction)) throw badRequest(`action must be one of ${[...ACTIONS].join(", ")}`);
  const entries = await registryStub(c.env, account).auditLog({ before, limit, action });
  c.header("Cache-Control", "no-store");
  return c.json({ account, entries, next: entries.length === limit ? entries[entries.length - 1]!.seq : null });
});

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,15}$/.test(value)) throw badRequest(`${name} must be a non-negative integer`);
  return Number(value);
}
