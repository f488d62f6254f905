import { describe, expect, it } from "vitest";
import { dealVerdict, pdpVerdict } from "../../src/backends/filecoin/watch-verdict";
import type { DataSetState } from "../../src/backends/filecoin/chain-reader";

const set = (over: Partial<DataSetState> = {}): DataSetState => ({
  dataSetId: 7n, live: true, pdpEndEpoch: 0n, lastProvenEpoch: 10_000n, nextChallengeEpoch: 12_880n, scheduledRemovals: [], providerId: 4n, ...over,
});
const policy = { maxProvingPeriod: 2880n, atRiskPeriods: 2, lostPeriods: 6 };
const verdict = (head: bigint, over: Partial<DataSetState> = {}, extra: { pieceLive?: boolean; removalRequested?: boolean } = {}) =>
  pdpVerdict({ dataSet: set(over), pieceId: 3n, pieceLive: extra.pieceLive ?? true, removalRequested: extra.removalRequested ?? false, head, addedEpoch: 9_000n, policy });

describe("watch verdicts (pure rules)", () => {
  it("proofs: a period of grace, then whole missed periods count; at_risk at 2, lost at 6", () => {
    expect(verdict(10_000n + 2880n).state).toBe("stored"); // exactly one period: the proof is due, not missed
    expect(verdict(10_000n + 2n * 2880n).state).toBe("stored"); // one missed period
    expect(verdict(10_000n + 2n * 2880n + 1n)).toMatchObject({ state: "at_risk", reason: expect.stringMatching(/^proofs overdue for 2 proving periods/) });
    expect(verdict(10_000n + 6n * 2880n).state).toBe("at_risk"); // 5 missed
    expect(verdict(10_000n + 6n * 2880n + 1n)).toMatchObject({ state: "lost", reason: expect.stringMatching(/^no proof for 6 proving periods/) });
    // Never proven: counted from the epoch the piece was added.
    expect(verdict(9_000n + 3n * 2880n + 1n, { lastProvenEpoch: 0n })).toMatchObject({ state: "at_risk", reason: expect.stringContaining("not proven yet") });
  });

  it("data set and piece: not live, terminated, piece gone, removal we did not ask for → lost; one we asked for is fine", () => {
    expect(verdict(10_100n, { live: false })).toEqual({ state: "lost", reason: "data set 7 is no longer live" });
    expect(verdict(10_100n, { pdpEndEpoch: 20_000n })).toEqual({ state: "lost", reason: "data set 7 terminated (pdpEndEpoch 20000)" });
    expect(verdict(10_100n, {}, { pieceLive: false })).toEqual({ state: "lost", reason: "piece 3 is no longer in data set 7" });
    expect(verdict(10_100n, { scheduledRemovals: [3n] })).toEqual({ state: "lost", reason: "piece 3 is scheduled for removal and we did not ask for it" });
    expect(verdict(10_100n, { scheduledRemovals: [3n] }, { removalRequested: true }).state).toBe("stored");
    expect(verdict(10_100n, { scheduledRemovals: [4n] }).state).toBe("stored");
  });

  it("deals: active, inside the renew window, not yet sealed, never sealed, slashed, ended, gone", () => {
    const deal = { dealId: 1n, pieceCid: "baga", provider: "f01", startEpoch: 100n, endEpoch: 100_000n, sectorStartEpoch: 150n, slashEpoch: -1n };
    const window = 30n * 2880n;
    expect(dealVerdict(deal, 1_000n, window).state).toBe("stored");
    expect(dealVerdict(deal, 100_000n - window, window)).toMatchObject({ state: "at_risk" });
    expect(dealVerdict(deal, 100_000n - window - 1n, window).state).toBe("stored");
    expect(dealVerdict({ ...deal, sectorStartEpoch: -1n }, 50n, window)).toMatchObject({ state: "at_risk", reason: expect.stringMatching(/^deal not yet active/) });
    expect(dealVerdict({ ...deal, sectorStartEpoch: -1n }, 100n, window)).toEqual({ state: "lost", reason: "deal never activated (start epoch 100 passed)" });
    expect(dealVerdict({ ...deal, slashEpoch: 900n }, 1_000n, window)).toEqual({ state: "lost", reason: "deal slashed at epoch 900" });
    expect(dealVerdict(deal, 100_000n, window)).toEqual({ state: "lost", reason: "deal ended at epoch 100000" });
    expect(dealVerdict("not_found", 1_000n, window).state).toBe("lost");
  });
});
