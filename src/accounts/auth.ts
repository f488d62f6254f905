import { createMiddleware } from "hono/factory";
import { HttpError } from "../http/errors";
import { registryStub } from "../durable-objects/pin-registry";
import { hashToken, tokenAccount } from "./token-hash";

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
 * Requires an API token minted by the operator; sets `account`. The token
 * names its account; its SHA-256 is checked in that account's PinRegistry
 * (no global object on the request path), so a revoked token fails on its
 * next request. (PSA securitySchemes.accessToken.)
 */
export const requireToken = createMiddleware<AuthEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  const account = token === null ? null : tokenAccount(token);
  if (token === null || account === null || !(await registryStub(c.env, account).hasToken(await hashToken(token)))) {
    throw new HttpError("unauthorized", "Access token is missing or invalid", { "WWW-Authenticate": "Bearer" });
  }
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
