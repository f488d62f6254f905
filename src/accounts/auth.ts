import { createMiddleware } from "hono/factory";
import { HttpError } from "../http/errors";
import { registryStub } from "../durable-objects/pin-registry";
import { hashToken, tokenAccount } from "./token-hash";
import { accountOfTokenHash } from "./token-lookup";

/** `tokenHash`: the bearer token's SHA-256 (hex), set by `requireMintedToken` for a route that checks it itself. */
export type AuthEnv = { Bindings: Env; Variables: { account: string; tokenHash: string } };

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

/** The 401 of a missing, malformed, forged, unknown or revoked API token (PSA securitySchemes.accessToken). */
export const refusedToken = () => new HttpError("unauthorized", "Access token is missing or invalid", { "WWW-Authenticate": "Bearer" });

/**
 * Check 1 of `requireToken`: the account a bearer token was minted for and
 * its SHA-256, or a thrown 401. Reaches no per-account object.
 */
async function mintedToken(c: { req: { header(name: string): string | undefined }; env: Env }): Promise<{ account: string; sha256: string }> {
  const token = bearerToken(c.req.header("Authorization"));
  const account = token === null ? null : tokenAccount(token);
  if (token === null || account === null) throw refusedToken();
  const sha256 = await hashToken(token);
  if ((await accountOfTokenHash(c.env, sha256)) !== account) throw refusedToken();
  return { account, sha256 };
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
  const { account, sha256 } = await mintedToken(c);
  if (!(await registryStub(c.env, account).hasToken(sha256))) throw refusedToken();
  c.set("account", account);
  await next();
});

/**
 * Check 1 of `requireToken` only; sets `account` and `tokenHash`. For a
 * route that makes check 2 itself in the one PinRegistry call it needs
 * anyway (`listPinsWithToken`: the PSA list, src/psa/routes.ts), so that a
 * revoked token is still refused on its next request, with one RPC instead
 * of two. The route must refuse (`refusedToken()`) before anything else
 * reaches the account.
 */
export const requireMintedToken = createMiddleware<AuthEnv>(async (c, next) => {
  const { account, sha256 } = await mintedToken(c);
  c.set("account", account);
  c.set("tokenHash", sha256);
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
