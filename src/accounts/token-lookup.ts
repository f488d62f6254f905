import { accountsStub } from "../durable-objects/accounts";

/**
 * How long an isolate keeps the `Accounts` answer for a token hash. Only the
 * gate "is this a token we minted, and of which account" is cached: a known
 * token is still checked in its account's PinRegistry on every request, so a
 * revocation (which removes it there first) refuses it on its next request,
 * cache or not. An unknown hash can never become known (tokens carry 256
 * random bits and a minted token's hash is new), so a cached "unknown" is
 * never wrong either. docs/pinning.md "Operator API", docs/storage.md "Tokens and secrets".
 */
export const TOKEN_CACHE_TTL_MS = 60_000;
/** Hashes kept per isolate; the oldest entry is dropped first. */
const MAX_ENTRIES = 10_000;

const cache = new Map<string, { account: string | null; until: number }>();

/**
 * The account that minted the token whose SHA-256 (hex) is `sha256`, or
 * null when `Accounts` has no such token: one look-up in the `Accounts`
 * object per hash per isolate per TTL. Runs before any per-account object
 * is reached, so a forged or unknown token creates no state anywhere.
 * Throws what the `Accounts` RPC throws (the caller's request fails with a 500).
 */
export async function accountOfTokenHash(env: Env, sha256: string, now = Date.now()): Promise<string | null> {
  const hit = cache.get(sha256);
  if (hit !== undefined && hit.until > now) return hit.account;
  const account = await accountsStub(env).accountOfToken(sha256);
  cache.delete(sha256);
  cache.set(sha256, { account, until: now + TOKEN_CACHE_TTL_MS });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return account;
}
