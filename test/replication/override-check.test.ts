import { describe, expect, it } from "vitest";
import { call, expectFailure, newAccount } from "../pinning/helpers";

/**
 * A pin's `meta.replication` (docs/replication.md "Per-pin override") is
 * checked against BACKENDS before anything is created (vitest.config.ts
 * configures `remote`, `backup`… as PSA backends; there is no `nowhere`).
 */
describe("meta.replication override", () => {
  const cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

  it("POST /psa/pins: a backend that is not configured, a bad target, too many copies are 400s that create no pin", async () => {
    const { token } = await newAccount("override-400");
    const cases: [string, string][] = [
      ["r2,nowhere", "meta.replication cannot be followed: nowhere: no such backend is configured"],
      ["remote × 99", 'meta.replication cannot be followed: target "remote × 99": copies must be 1 to 10'],
      ["type:psa × 9", "meta.replication cannot be followed: type:psa × 9: 9 copies asked, 6 backend(s) can hold one"],
      ["r2,(bad)", 'meta.replication cannot be followed: target "(bad)" is not "<backend>" or "type:<type>", optionally "× n"'],
    ];
    for (const [replication, details] of cases) {
      const res = await call("POST", "/psa/pins", { token, body: { cid, meta: { replication } } });
      expect(await expectFailure(res, 400, "BAD_REQUEST")).toBe(details);
    }
    const list = await call("GET", "/psa/pins?status=queued,pinning,pinned,failed", { token });
    expect(await list.json()).toEqual({ count: 0, results: [] });
  });

  it("a target list it can follow is accepted as it was written", async () => {
    const { token } = await newAccount("override-ok");
    const res = await call("POST", "/psa/pins", { token, body: { cid, meta: { replication: "r2,remote" } } });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { pin: { meta: Record<string, string> } };
    expect(body.pin.meta).toEqual({ replication: "r2,remote" });
  });
});
