import { base64url } from "multiformats/bases/base64";

/** Prefix of API tokens, so a leaked token is recognisable (secret scanners). */
const TOKEN_PREFIX = "ike_";

/** A new API token: 32 random bytes, base64url. Shown once, stored only hashed. */
export function newToken(): string {
  return TOKEN_PREFIX + base64url.baseEncode(crypto.getRandomValues(new Uint8Array(32)));
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
