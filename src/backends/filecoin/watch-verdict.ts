import type { DataSetState } from "./chain-reader";
import type { DealState } from "./lotus-client";

/**
 * What the watch concludes about one Filecoin copy from the chain's facts
 * (pure: no I/O, so every rule is unit-tested). DESIGN.md "deal monitoring
 * and renewal"; the rules and their reasons are in docs/filecoin.md.
 */
export type Verdict =
  | { state: "stored"; proof: string }
  | { state: "at_risk"; reason: string; proof?: string }
  | { state: "lost"; reason: string };

/** Filecoin epochs are 30 s: 2,880 a day (filecoin-pin's runway arithmetic). */
export const EPOCHS_PER_DAY = 2880n;

export interface ProofPolicy {
  maxProvingPeriod: bigint;
  /** Whole proving periods without a proof before a copy is `at_risk`... */
  atRiskPeriods: number;
  /** ...and `lost`. */
  lostPeriods: number;
}

/**
 * A PDP copy: its data set must be live and not terminated (`pdpEndEpoch`
 * 0), its piece live and not scheduled for removal by someone else, and
 * proofs must keep landing. `addedEpoch` is when we saw the piece added
 * (proofs cannot be overdue before the first proving period has passed).
 */
export function pdpVerdict(input: {
  dataSet: DataSetState;
  pieceId: bigint;
  pieceLive: boolean;
  removalRequested: boolean;
  head: bigint;
  addedEpoch: bigint;
  policy: ProofPolicy;
}): Verdict {
  const { dataSet, pieceId, head, policy } = input;
  if (!dataSet.live) return { state: "lost", reason: `data set ${dataSet.dataSetId} is no longer live` };
  if (dataSet.pdpEndEpoch > 0n) {
    return { state: "lost", reason: `data set ${dataSet.dataSetId} terminated (pdpEndEpoch ${dataSet.pdpEndEpoch})` };
  }
  if (!input.pieceLive) return { state: "lost", reason: `piece ${pieceId} is no longer in data set ${dataSet.dataSetId}` };
  if (!input.removalRequested && dataSet.scheduledRemovals.includes(pieceId)) {
    return { state: "lost", reason: `piece ${pieceId} is scheduled for removal and we did not ask for it` };
  }
  const since = dataSet.lastProvenEpoch > 0n ? dataSet.lastProvenEpoch : input.addedEpoch;
  const period = policy.maxProvingPeriod > 0n ? policy.maxProvingPeriod : 1n;
  const elapsed = head > since ? head - since : 0n;
  // A proof is due once per period; whole periods past the first without one are "missed".
  const missed = elapsed / period - (elapsed % period === 0n ? 1n : 0n);
  const missedPeriods = missed > 0n ? Number(missed) : 0;
  const proof =
    dataSet.lastProvenEpoch > 0n
      ? `last proven at epoch ${dataSet.lastProvenEpoch}, next challenge ${dataSet.nextChallengeEpoch}`
      : `not proven yet, next challenge ${dataSet.nextChallengeEpoch}`;
  if (missedPeriods >= policy.lostPeriods) {
    return { state: "lost", reason: `no proof for ${missedPeriods} proving periods (${proof})` };
  }
  if (missedPeriods >= policy.atRiskPeriods) {
    return { state: "at_risk", reason: `proofs overdue for ${missedPeriods} proving periods (${proof})`, proof };
  }
  return { state: "stored", proof };
}

/**
 * A classic storage deal (Lotus `StateMarketStorageDeal`): active when its
 * sector started (`SectorStartEpoch >= 0`), it was not slashed
 * (`SlashEpoch == -1`) and the head is before `EndEpoch`; within the renew
 * window of its end it is `at_risk` (a new copy is made before it expires).
 */
export function dealVerdict(deal: DealState | "not_found", head: bigint, renewWindowEpochs: bigint): Verdict {
  if (deal === "not_found") return { state: "lost", reason: "deal not found on chain (expired and cleaned up, or never existed)" };
  if (deal.slashEpoch !== -1n) return { state: "lost", reason: `deal slashed at epoch ${deal.slashEpoch}` };
  if (head >= deal.endEpoch) return { state: "lost", reason: `deal ended at epoch ${deal.endEpoch}` };
  if (deal.sectorStartEpoch < 0n) {
    if (head >= deal.startEpoch) return { state: "lost", reason: `deal never activated (start epoch ${deal.startEpoch} passed)` };
    return { state: "at_risk", reason: `deal not yet active (sector not sealed, start epoch ${deal.startEpoch})` };
  }
  if (deal.endEpoch - head <= renewWindowEpochs) {
    return { state: "at_risk", reason: `deal ends at epoch ${deal.endEpoch}, within the renew window (${deal.endEpoch - head} epochs left)` };
  }
  return { state: "stored", proof: `active since epoch ${deal.sectorStartEpoch}, ends at epoch ${deal.endEpoch}` };
}
