import { Hono } from "hono";
import { accountsStub } from "../durable-objects/accounts";
import { registryStub } from "../durable-objects/pin-registry";
import { badRequest, HttpError, notFound } from "../http/errors";
import type { AccountLimits } from "../pinning/pin-types";
import { readJson } from "../psa/pin-input";
import { requireAdmin } from "./auth";

/**
 * Operator API under `/api/v1` (DESIGN.md configuration contract), all
 * behind `ADMIN_TOKEN`:
 * - `POST /tokens` `{ name, account? }` → 201 `{ id, token, account, name, created }`
 * - `GET /tokens[?account=]` → `{ tokens: [...] }` (never the token itself)
 * - `DELETE /tokens/{id}` → 204, or 404
 * - `PUT /accounts/{account}/webhook-secrets` `{ secrets: [...] }` → 204
 * - `GET|PUT /accounts/{account}/limits` → `{ limits, usage }`
 */
export const accountRoutes = new Hono<{ Bindings: Env }>();

accountRoutes.use("/tokens", requireAdmin);
accountRoutes.use("/tokens/*", requireAdmin);
accountRoutes.use("/accounts/*", requireAdmin);

accountRoutes.post("/tokens", async (c) => {
  const body = await readJson(c.req.raw);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("body must be a JSON object");
  const { name, account } = body as { name?: unknown; account?: unknown };
  if (typeof name !== "string" || name.length === 0 || name.length > 255) throw badRequest("name must be a string of 1 to 255 characters");
  if (account !== undefined && typeof account !== "string") throw badRequest("account must be a string");
  const minted = await accountsStub(c.env).mintToken(name, account);
  if ("error" in minted) throw notFound(`no account ${JSON.stringify(account)}`);
  // The account's registry checks bearer tokens: the token works once it is there.
  await registryStub(c.env, minted.account).addToken(minted.id, minted.sha256);
  const { sha256: _, ...shown } = minted;
  return c.json(shown, 201);
});

accountRoutes.get("/tokens", async (c) => {
  const account = c.req.query("account");
  return c.json({ tokens: await accountsStub(c.env).listTokens(account) });
});

accountRoutes.delete("/tokens/:id", async (c) => {
  const accounts = accountsStub(c.env);
  const id = c.req.param("id");
  const owner = await accounts.tokenOwner(id);
  if (owner === null) throw notFound("no such token");
  // Refused from here on; then forgotten by the operator's list.
  await registryStub(c.env, owner).removeToken(id);
  await accounts.revokeToken(id);
  return c.body(null, 204);
});

accountRoutes.put("/accounts/:account/webhook-secrets", async (c) => {
  const account = await existingAccount(c.env, c.req.param("account"));
  const body = await readJson(c.req.raw);
  const secrets = (body as { secrets?: unknown } | null)?.secrets;
  if (!Array.isArray(secrets) || secrets.length > 10 || secrets.some((s) => typeof s !== "string" || s.length < 16 || s.length > 1024)) {
    throw badRequest("secrets must be an array of at most 10 strings of 16 to 1024 characters");
  }
  await registryStub(c.env, account).setWebhookSecrets(secrets as string[]);
  return c.body(null, 204);
});

accountRoutes.get("/accounts/:account/limits", async (c) => {
  const registry = registryStub(c.env, await existingAccount(c.env, c.req.param("account")));
  return c.json({ limits: await registry.limits(), usage: await registry.usage() });
});

accountRoutes.put("/accounts/:account/limits", async (c) => {
  const registry = registryStub(c.env, await existingAccount(c.env, c.req.param("account")));
  const body = await readJson(c.req.raw);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("body must be a JSON object");
  const limits: Partial<AccountLimits> = {};
  for (const key of ["maxPins", "maxBytes", "deadlineMs", "maxConcurrent", "stepBlocks"] as const) {
    const value = (body as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw badRequest(`${key} must be a non-negative integer`);
    limits[key] = value;
  }
  return c.json({ limits: await registry.setLimits(limits), usage: await registry.usage() });
});

async function existingAccount(env: Env, account: string): Promise<string> {
  if (!(await accountsStub(env).accountExists(account))) throw new HttpError("not_found", "no such account");
  return account;
}
