import { backendConfigs } from "../backends/backend-config";
import { EPOCHS_PER_DAY } from "../backends/filecoin/watch-verdict";
import { filecoinWatch } from "../cron/filecoin-watch";
import type { FundingEvent, WatchedCopy } from "../durable-objects/filecoin-watch";
import type { RootStatus } from "./replica-types";

/** One provider's copy as the Filecoin watch last saw it (docs/filecoin.md "The watch"). */
export interface FilecoinCopyStatus {
  id: string;
  kind: "pdp" | "deal";
  provider: string | null;
  dataSet: string | null;
  pieceId: string | null;
  pieceCid: string | null;
  dealId: string | null;
  state: WatchedCopy["state"];
  /** Proof status: "last proven at epoch N, next challenge M" (or the deal's activity), null before the first check. */
  proof: string | null;
  lastCheck: string | null;
  nextCheck: string;
  failures: number;
  lastError: string | null;
  lastVerified: string | null;
  /** What the watch does next with this copy. */
  nextAction: string;
}

/** The payer's runway as the watch's last funding event recorded it (deposit or alert). */
export interface PayerRunway {
  payer: string;
  at: string;
  runwayDays: number;
  event: "deposit" | "alert";
  state: string;
  message: string | null;
}

export type RootStatusWithFilecoin = Omit<RootStatus, "replicas"> & {
  replicas: (RootStatus["replicas"][number] & { filecoin?: { copies: FilecoinCopyStatus[]; payer: PayerRunway | null } })[];
};

/**
 * Unified status (`GET /api/v1/pins/{cid}`) with the Filecoin watch's view
 * of every copy on a `filecoin` backend: provider, data set, piece, proof
 * status, last and next check, next action, and the payer's runway
 * (`FilecoinWatch.copies(root)` / `funding()`). Only copies registered
 * with this account are shown. One call to the watch object, and only
 * when the root has a Filecoin replica.
 */
export async function withFilecoinWatch(env: Env, account: string, status: RootStatus): Promise<RootStatusWithFilecoin> {
  let types: Map<string, { type: string }>;
  try {
    types = backendConfigs(env);
  } catch {
    return status; // a malformed BACKENDS is reported by /api/v1/backends; the status stands without the watch
  }
  const filecoin = status.replicas.filter((r) => types.get(r.backend)?.type === "filecoin");
  if (filecoin.length === 0) return status;
  const watch = filecoinWatch(env);
  const [copies, funding] = await Promise.all([watch.copies(status.cid), watch.funding()]);
  const payer = runway(funding);
  return {
    ...status,
    replicas: status.replicas.map((r) =>
      types.get(r.backend)?.type !== "filecoin"
        ? r
        : { ...r, filecoin: { copies: copies.filter((c) => c.backend === r.backend && c.account === account).map(copyStatus), payer } },
    ),
  };
}

function copyStatus(c: WatchedCopy): FilecoinCopyStatus {
  const next = new Date(c.nextCheckAt).toISOString();
  return {
    id: c.id,
    kind: c.kind,
    provider: c.providerId || null,
    dataSet: c.dataSetId || null,
    pieceId: c.pieceId || null,
    pieceCid: c.pieceCid || null,
    dealId: c.dealId || null,
    state: c.state,
    proof: c.proof,
    lastCheck: c.lastCheckAt === null ? null : new Date(c.lastCheckAt).toISOString(),
    nextCheck: next,
    failures: c.failures,
    lastError: c.lastError,
    lastVerified: c.lastVerifiedAt === null ? null : new Date(c.lastVerifiedAt).toISOString(),
    nextAction:
      c.state === "stored"
        ? c.failures > 0 || c.lastError !== null ? `check again at ${next} (last check failed)` : `check at ${next}`
        : `replacement requested from the engine; this copy stays watched until the new one is registered (next check ${next})`,
  };
}

function runway(events: FundingEvent[]): PayerRunway | null {
  const last = events.at(-1);
  if (last === undefined) return null;
  return {
    payer: last.payer,
    at: new Date(last.at).toISOString(),
    runwayDays: Number((BigInt(last.runwayEpochs) * 100n) / EPOCHS_PER_DAY) / 100,
    event: last.kind,
    state: last.state,
    message: last.message,
  };
}

/**
 * PSA `info` lines of one pin (`GET /psa/pins/{requestid}` only: a list
 * would cost a watch call per pin) for its Filecoin copies: `filecoin`,
 * one entry per watched copy of this account (`<backend> provider P data
 * set D piece I: <state> (<proof>); <next action>`, joined by ` | `), and
 * `filecoin_payer` (the payer's runway at the last funding event). Empty
 * when the pin's `replicas` summary names no `filecoin` backend, so other
 * pins never reach the watch object.
 */
export async function filecoinPsaInfo(env: Env, account: string, root: string, info: Record<string, string>): Promise<Record<string, string>> {
  let types: Map<string, { type: string }>;
  try {
    types = backendConfigs(env);
  } catch {
    return {};
  }
  const backends = (info.replicas ?? "").split(" ").map((r) => r.slice(0, r.indexOf("="))).filter((b) => types.get(b)?.type === "filecoin");
  if (backends.length === 0) return {};
  const watch = filecoinWatch(env);
  const [copies, funding] = await Promise.all([watch.copies(root), watch.funding()]);
  const lines = copies
    .filter((c) => c.account === account && backends.includes(c.backend))
    .map((w) => {
      const c = copyStatus(w);
      return `${w.backend} provider ${c.provider ?? "?"} data set ${c.dataSet ?? "?"} piece ${c.pieceId ?? "?"}: ${c.state}${c.proof ? ` (${c.proof})` : ""}; ${c.nextAction}`;
    });
  const out: Record<string, string> = {};
  if (lines.length > 0) out.filecoin = lines.join(" | ");
  const payer = runway(funding);
  if (payer !== null) out.filecoin_payer = `runway ${payer.runwayDays} days at ${payer.at} (${payer.event} ${payer.state})`;
  return out;
}
