import { base64url } from "multiformats/bases/base64";

/** Prefix of API tokens, so a leaked token is recognisable (secret scanners). */
const TOKEN_PREFIX = "ike_";

/**
 * A new API token of `account` (`acc_<24 hex>`): `ike_<24 hex>.<32 random
 * bytes, base64url>`. The account part is not secret: it only routes the
 * check to the account's own PinRegistry (no global object on the request
 * path); the random part is what authenticates. Shown once, stored hashed.
 */
export function newToken(account: string): string {
  return `${TOKEN_PREFIX}${account.slice("acc_".length)}.${base64url.baseEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The account a token names (not yet checked), or null when it is not one of ours. */
export function tokenAccount(token: string): string | null {
  const match = /^ike_([0-9a-f]{24})\.[A-Za-z0-9_-]{43}$/.exec(token);
  return match === null ? null : `acc_${match[1]}`;
}

/** SHA-256 of a token, hex: what the Accounts object stores and looks up. */
export async function hashToken(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Opaque random identifier with a readable prefix (`acc_…`, `tok_…`). */
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
