import { describe, expect, it } from "vitest";
import type { BackendConfig } from "../../src/backends/backend-config";
import { parsePolicy, planFor, PolicyError } from "../../src/replication/policy";

/** Backends of a deployment with every type (only their names and types matter to the policy). */
const backends = new Map<string, BackendConfig>(
  (
    [
      ["r2", "r2"], ["home-kubo", "kubo"], ["fil-a", "filecoin"], ["fil-b", "filecoin"], ["fil-c", "filecoin"], ["archive-s3", "s3"], ["pinata", "psa"],
    ] as const
  ).map(([name, type]) => [name, { name, type, settings: {} }]),
);

/** The examples of docs/replication.md, as one policy. */
const policy = parsePolicy(JSON.stringify({
  default: { backends: ["r2", "pinata"], minCopies: 2 },
  rules: [
    { when: { meta: { tier: "archive" } }, backends: ["type:filecoin × 3", "archive-s3"] },
    { when: { sizeAbove: "100 MB" }, backends: ["r2", "type:filecoin"] },
    { when: { sizeBelow: "1 MiB" }, backends: ["r2", "home-kubo"] },
    { when: { name: "*.parquet", account: ["acc_datasets"] }, backends: ["archive-s3*1"] },
  ],
}));

const pin = (size: number, meta: Record<string, string> = {}, name?: string, account = "acc_x") => ({ size, meta, account, ...(name === undefined ? {} : { name }) });

describe("replication policy", () => {
  it("small → R2 + Kubo", () => {
    expect(planFor(policy, pin(1000), backends)).toEqual({ backends: ["r2", "home-kubo"], minCopies: 2, rule: "rules[2]", problems: [] });
  });

  it("over 100 MB → R2 + Filecoin (the first backend of that type)", () => {
    expect(planFor(policy, pin(100_000_001), backends)).toEqual({ backends: ["r2", "fil-a"], minCopies: 2, rule: "rules[1]", problems: [] });
    // Exactly 100 MB is not over it: the default applies.
    expect(planFor(policy, pin(100_000_000), backends).rule).toBe("default");
  });

  it("meta.tier = archive → Filecoin × 3 + S3, whatever the size (first matching rule wins; R2 always holds the pin)", () => {
    expect(planFor(policy, pin(10, { tier: "archive" }), backends)).toEqual({
      backends: ["r2", "fil-a", "fil-b", "fil-c", "archive-s3"], minCopies: 5, rule: "rules[0]", problems: [],
    });
  });

  it("rules by name glob and account; default otherwise", () => {
    expect(planFor(policy, pin(5_000_000, {}, "2024.PARQUET", "acc_datasets"), backends).backends).toEqual(["r2", "archive-s3"]);
    expect(planFor(policy, pin(5_000_000, {}, "2024.parquet", "acc_other"), backends)).toEqual({ backends: ["r2", "pinata"], minCopies: 2, rule: "default", problems: [] });
  });

  it("a pin's meta.replication overrides the rules; what cannot be met is said, never dropped silently", () => {
    expect(planFor(policy, pin(1000, { replication: "pinata, archive-s3" }), backends)).toEqual({ backends: ["r2", "pinata", "archive-s3"], minCopies: 3, rule: "meta.replication", problems: [] });
    expect(planFor(policy, pin(1000, { replication: "type:filecoin x4,nowhere" }), backends)).toEqual({
      backends: ["r2", "fil-a", "fil-b", "fil-c"], minCopies: 4, rule: "meta.replication",
      problems: ["type:filecoin x4: 4 copies asked, 3 backend(s) can hold one", "nowhere: no such backend is configured"],
    });
    expect(planFor(policy, pin(1000, { replication: "bad target!" }), backends)).toMatchObject({ rule: "rules[2]", problems: ['target "bad target!" is not "<backend>" or "type:<type>", optionally "× n"'] });
    const strict = parsePolicy(JSON.stringify({ default: { backends: ["r2"] }, allowMetaOverride: false }));
    expect(planFor(strict, pin(1000, { replication: "pinata" }), backends).backends).toEqual(["r2"]);
    expect(planFor(policy, pin(1000), new Map([["r2", backends.get("r2")!]])).problems).toEqual(["home-kubo: no such backend is configured"]);
    expect(planFor(policy, pin(5_000_000), new Map([["r2", backends.get("r2")!]])).problems).toEqual(["pinata: no such backend is configured", "minCopies 2 cannot be met by 1 backend(s)"]);
  });

  it("rejects a malformed policy with a message naming the place", () => {
    expect(() => parsePolicy("{")).toThrow(new PolicyError("not valid JSON"));
    expect(() => parsePolicy(JSON.stringify({ rules: [{ when: { size: 1 }, backends: ["r2"] }] }))).toThrow("REPLICATION_POLICY: rules[0].when.size is not a condition");
    expect(() => parsePolicy(JSON.stringify({ rules: [{ when: { sizeAbove: "lots" }, backends: ["r2"] }] }))).toThrow('rules[0].when.sizeAbove must be bytes or a size like "100 MB"');
    expect(() => parsePolicy(JSON.stringify({ default: { backends: ["r2"], minCopies: 0 } }))).toThrow("default.minCopies must be a positive integer");
    expect(() => parsePolicy(JSON.stringify({ default: { backends: ["fil × 11"] } }))).toThrow('target "fil × 11": copies must be 1 to 10');
  });
});
