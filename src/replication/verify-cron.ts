import { accountsStub } from "../durable-objects/accounts";
import { registryStub } from "../durable-objects/pin-registry";

/** Twice an hour at :07 and :37 (wrangler.toml `[triggers]`): sample stored replicas and check them where they live. */
export const VERIFY_CRON = "23,53 * * * *";

/** Accounts visited per run (bounded fan-out; the next run continues after the last one). */
const ACCOUNTS_PER_RUN = 50;
/** Stored copies checked per account and run (`REPLICA_VERIFY_SAMPLE`). */
const CHECKS_PER_ACCOUNT = 20;
/** A copy is not checked again sooner than this after its last check (6 h, `REPLICA_VERIFY_MIN_AGE_MS`). */
const MIN_CHECK_AGE_MS = 6 * 3_600_000;

/**
 * The verification cron (docs/replication.md "Verification"): the next
 * batch of accounts that have replicas (Accounts keeps the list and the
 * cursor) each schedule checks of their least recently checked stored
 * copies; the checks run in the account's PinRegistry alarm (backend
 * `check`: PSA status, R2 HEAD...), and a copy found `lost` is stored
 * again there. Returns the number of checks scheduled.
 */
export async function verifyReplicas(
  env: Env,
  opts: { accounts?: number; perAccount?: number; minAgeMs?: number } = {},
): Promise<number> {
  const perAccount = opts.perAccount ?? positive(env.REPLICA_VERIFY_SAMPLE, CHECKS_PER_ACCOUNT);
  const minAgeMs = opts.minAgeMs ?? positive(env.REPLICA_VERIFY_MIN_AGE_MS, MIN_CHECK_AGE_MS);
  const accounts = await accountsStub(env).nextReplicatingAccounts(opts.accounts ?? ACCOUNTS_PER_RUN);
  const counts = await Promise.all(
    accounts.map((account) =>
      registryStub(env, account)
        .scheduleReplicaChecks(perAccount, minAgeMs)
        .catch((err: unknown) => {
          console.error("verify: an account's registry failed", err instanceof Error ? err.message : String(err));
          return 0;
        }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

function positive(value: string | undefined, dflt: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) && n >= 0 ? n : dflt;
}
