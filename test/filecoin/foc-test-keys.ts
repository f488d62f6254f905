/**
 * Throwaway keys of the Filecoin store tests (published here; they pay and
 * sign on the local chain only). The local chain
 * (test/servers/filecoin-storage-chain.ts) authorises `FOC_SESSION_KEY`
 * for `FOC_PAYER` (what SessionKeyRegistry `login` would record);
 * `FOC_UNAUTHORISED_SESSION_KEY` was never authorised.
 */
export const FOC_PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
export const FOC_SESSION_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
/** viem privateKeyToAccount(FOC_SESSION_KEY).address */
export const FOC_SESSION_KEY_ADDRESS = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
export const FOC_UNAUTHORISED_SESSION_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
