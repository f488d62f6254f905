import { createMiddleware } from "hono/factory";
import { HttpError } from "../http/errors";
import { registryStub } from "../durable-objects/pin-registry";
import { hashToken, tokenAccount } from "./token-hash";
import { accountOfTokenHash } from "./token-lookup";

export type AuthEnv = { Bindings: Env; Variables: { account: string } };

/** The bearer token of `Authorization: Bearer <token>` (RFC 6750 §2.1), or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/** Constant-time string comparison (for the operator token). */
export function timingSafeEqualString(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * Requires an API token minted by the operator; sets `account`. Two checks
 * (PSA securitySchemes.accessToken):
 * 1. its SHA-256 must be a token `Accounts` minted for the account the token
 *    names (cached per isolate, token-lookup.ts): an unknown or forged token
 *    is refused here, before any per-account object is touched, so it
 *    creates no state;
 * 2. that account's PinRegistry must still hold the hash: a revoked token
 *    (removed there first) is refused on its next request.
 */
export const requireToken = createMiddleware<AuthEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  const account = token === null ? null : tokenAccount(token);
  const refuse = () => new HttpError("unauthorized", "Access token is missing or invalid", { "WWW-Authenticate": "Bearer" });
  if (token === null || account === null) throw refuse();
  const sha256 = await hashToken(token);
  if ((await accountOfTokenHash(c.env, sha256)) !== account) throw refuse();
  if (!(await registryStub(c.env, account).hasToken(sha256))) throw refuse();
  c.set("account", account);
  await next();
});

/** Requires the operator's `ADMIN_TOKEN` (DESIGN.md configuration contract). */
export const requireAdmin = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  const admin = c.env.ADMIN_TOKEN;
  if (token === null || !admin || !timingSafeEqualString(token, admin)) {
    throw new HttpError("unauthorized", "operator token is missing or invalid", { "WWW-Authenticate": "Bearer" });
  }
  await next();
});
