/**
 * Storacha settings (docs/storacha.md "Configuration"): where the service
 * is, and the two secrets. Vars have the production defaults; the secrets
 * have none (no Storacha route works without them).
 */
export type StorachaConfig = {
  serviceUrl: string;
  serviceDid: string;
  claimsUrl: string;
  /** A trustless gateway that has the space's blocks, given to migrated pins as an origin; "" = none (UPSTREAMS only). */
  gatewayUrl: string;
  /** Bound of every request to the service and to the claims service (`STORACHA_TIMEOUT_MS`): one that never answers fails as `unavailable`. */
  timeoutMs: number;
  key: string | undefined;
  proof: string | undefined;
};

export function storachaConfig(env: Env): StorachaConfig {
  const vars = env as unknown as Record<string, string | undefined>;
  return {
    serviceUrl: vars.STORACHA_SERVICE_URL || "https://up.storacha.network",
    serviceDid: vars.STORACHA_SERVICE_DID || "did:web:up.storacha.network",
    claimsUrl: vars.STORACHA_CLAIMS_URL || "https://claims.web3.storage",
    gatewayUrl: vars.STORACHA_GATEWAY_URL ?? "",
    timeoutMs: timeoutMs(vars.STORACHA_TIMEOUT_MS),
    key: vars.STORACHA_KEY || undefined,
    proof: vars.STORACHA_PROOF || undefined,
  };
}

/** Default bound of one Storacha request: `upload/list` of 50 uploads and `filecoin/info` answer in well under a second. */
export const STORACHA_TIMEOUT_MS = 30_000;

function timeoutMs(raw: string | undefined): number {
  const n = Number(raw);
  return raw !== undefined && raw !== "" && Number.isInteger(n) && n >= 1 && n <= 600_000 ? n : STORACHA_TIMEOUT_MS;
}

/**
 * Whether `account` may list the space and migrate it into its pins
 * (`STORACHA_ACCOUNTS`: comma-separated account ids, or `*` for every
 * account of a single-tenant deployment). The space is the operator's: no
 * account may read it unless named here.
 */
export function storachaAllows(env: Env, account: string): boolean {
  const raw = (env as unknown as Record<string, string | undefined>).STORACHA_ACCOUNTS ?? "";
  const allowed = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return allowed.includes("*") || allowed.includes(account);
}
