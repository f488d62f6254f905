import type { FilecoinChainSettings } from "./chain-config";
import { resolveChain } from "./chain-config";

/**
 * Deposits USDFC into the payer's Filecoin Pay account (synapse-core
 * `pay.fund`: an ERC-2612 permit + `depositWithPermit`, one transaction).
 *
 * Needs the payer's own private key (FOC_FUNDING_KEY): a session key can
 * only sign FWSS data set operations, never move funds. That key can spend
 * everything the wallet holds: set it only when auto-funding is wanted
 * (FOC_AUTO_FUND=on), keep the wallet's balance small, and prefer alert
 * only (docs/filecoin.md "Secrets and their risk").
 *
 * Error contract: resolves with the transaction hash once it is submitted;
 * throws when signing or submission fails (nothing was sent then, or the
 * node rejected it). Confirmation is seen later in the account's funds.
 */
export interface Funder {
  readonly payer: `0x${string}`;
  deposit(amount: bigint): Promise<`0x${string}`>;
}

export async function createFunder(settings: FilecoinChainSettings, privateKey: string, timeoutMs: number): Promise<Funder> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) throw new Error("FOC_FUNDING_KEY must be a 0x-prefixed 32-byte hex private key");
  const [{ createWalletClient, http }, { privateKeyToAccount }, pay, chain] = await Promise.all([
    import("viem"),
    import("viem/accounts"),
    import("@filoz/synapse-core/pay"),
    resolveChain(settings),
  ]);
  const account = privateKeyToAccount(privateKey as `0x${string}`);
  const client = createWalletClient({ account, chain, transport: http(chain.rpcUrls.default.http[0], { timeout: timeoutMs, retryCount: 0 }) });
  return {
    payer: account.address,
    // needsFwssMaxApproval false: the payer approved FWSS as operator when it set up the account (filecoin-pin / SDK onboarding).
    deposit: (amount) => pay.fund(client, { amount, needsFwssMaxApproval: false }),
  };
}
