/**
 * Dashboard sign-in (docs/dashboard.md "Sign-in and CSRF").
 *
 * The token a person signs in with (an API token: the account view; the
 * operator's `ADMIN_TOKEN`: the service view) is kept in one cookie,
 * `__Host-ike-dashboard`, `HttpOnly; Secure; SameSite=Strict; Path=/`,
 * never in a URL. It is checked again on every request, exactly as a bearer
 * token is (a revoked token signs the person out on the next request).
 *
 * CSRF: `SameSite=Strict` is not enough on a gateway: `{cid}.ipfs.{domain}`
 * content sites are *same-site* with the dashboard's host. So every POST
 * must also (1) carry an `Origin` equal to the dashboard's own origin, and
 * (2) once signed in, carry the session's CSRF token: SHA-256 of a label and
 * the signed-in token, which a page that cannot read the HttpOnly cookie
 * cannot compute. The `__Host-` prefix keeps a sibling subdomain from
 * planting its own cookie (RFC 6265bis §4.1.3.2).
 */
import { parse } from "hono/utils/cookie";
import { timingSafeEqualString } from "../accounts/auth";
import { hashToken, tokenAccount } from "../accounts/token-hash";
import { registryStub } from "../durable-objects/pin-registry";

export const SESSION_COOKIE = "__Host-ike-dashboard";
/** A session lasts 12 hours, then the person signs in again. */
export const SESSION_MAX_AGE_S = 12 * 60 * 60;
/** Longest token accepted from the sign-in form (API tokens are 73 characters). */
const MAX_TOKEN_LENGTH = 1024;

export type Session =
  /** The operator (`ADMIN_TOKEN`): every account, the service's gateways and costs. */
  | { view: "service"; csrf: string }
  /** One account's API token: its pins, uploads and usage. */
  | { view: "account"; account: string; csrf: string };

/** The session a token opens, or null when the token is not valid (unknown, revoked, malformed). */
export async function sessionFor(env: Env, token: string): Promise<Session | null> {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) return null;
  const csrf = await csrfToken(token);
  if (env.ADMIN_TOKEN && timingSafeEqualString(token, env.ADMIN_TOKEN)) return { view: "service", csrf };
  const account = tokenAccount(token);
  if (account === null || !(await registryStub(env, account).hasToken(await hashToken(token)))) return null;
  return { view: "account", account, csrf };
}

/** The session of the request's cookie, or null. */
export async function currentSession(env: Env, request: Request): Promise<Session | null> {
  const token = parse(request.headers.get("Cookie") ?? "", SESSION_COOKIE)[SESSION_COOKIE];
  return token === undefined ? null : sessionFor(env, token);
}

/** `Set-Cookie` of a new session: exactly these attributes (tested). */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; Max-Age=${SESSION_MAX_AGE_S}; Path=/; HttpOnly; Secure; SameSite=Strict`;
}

/** `Set-Cookie` that ends the session. */
export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict`;
}

/** The CSRF token of a session: not secret from its owner, unforgeable without the signed-in token. */
async function csrfToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`ipfs-kit-edge dashboard csrf\0${token}`));
  return Array.from(new Uint8Array(digest).subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether a POST comes from the dashboard's own pages: its `Origin` is the
 * request's origin. Browsers send `Origin` on every POST (Fetch standard
 * §3.1); one that is missing or `null` is refused.
 */
export function sameOrigin(request: Request): boolean {
  const origin = request.headers.get("Origin");
  return origin !== null && origin !== "null" && origin === new URL(request.url).origin;
}

/** Constant-time check of a submitted CSRF token. */
export function csrfMatches(session: Session, submitted: string | null | undefined): boolean {
  return typeof submitted === "string" && timingSafeEqualString(submitted, session.csrf);
}
