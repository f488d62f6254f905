import { describe, expect, it } from "vitest";
import { HttpError } from "../../../src/http/errors";
import { parseDagScope, parseEntityBytes, resolveEntityBytes } from "../../../src/gateway/request/dag-scope";
import { parseRange } from "../../../src/gateway/request/range";

function status(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return e.status;
    throw e;
  }
  return 0;
}

describe("entity-bytes (IPIP-402)", () => {
  it("parses from:to with negatives and *", () => {
    expect(parseEntityBytes("0:*")).toEqual({ from: 0, to: "*" });
    expect(parseEntityBytes("-5:*")).toEqual({ from: -5, to: "*" });
    expect(parseEntityBytes("512:-256")).toEqual({ from: 512, to: -256 });
    expect(parseEntityBytes(null)).toBeUndefined();
  });

  it("rejects malformed values with 400", () => {
    for (const bad of ["", "1", "a:b", "1:2:3", "*:5", "5:1", "1.5:2", "99999999999999999:1", " 1:2"]) {
      expect(status(() => parseEntityBytes(bad)), bad).toBe(400);
    }
  });

  it("resolves against the 1026-byte fixture file as the conformance table expects (C19-C25)", () => {
    const size = 1026;
    expect(resolveEntityBytes({ from: 512, to: "*" }, size)).toEqual([512, 1025]);
    expect(resolveEntityBytes({ from: 512, to: 1023 }, size)).toEqual([512, 1023]);
    expect(resolveEntityBytes({ from: 512, to: -256 }, size)).toEqual([512, 770]);
    expect(resolveEntityBytes({ from: -5, to: "*" }, size)).toEqual([1021, 1025]);
    expect(resolveEntityBytes({ from: -9999, to: "*" }, size)).toEqual([0, 1025]);
    expect(resolveEntityBytes({ from: -9999, to: -3 }, size)).toEqual([0, 1023]);
    expect(resolveEntityBytes({ from: 0, to: 0 }, size)).toEqual([0, 0]);
    expect(resolveEntityBytes({ from: 2000, to: "*" }, size)).toBeUndefined();
    expect(resolveEntityBytes({ from: 0, to: "*" }, 0)).toBeUndefined();
  });

  it("dag-scope accepts only block, entity, all", () => {
    expect(parseDagScope("entity")).toBe("entity");
    expect(parseDagScope(null)).toBeUndefined();
    expect(status(() => parseDagScope("everything"))).toBe(400);
  });
});

describe("Range (RFC 9110 §14.1.2)", () => {
  it("parses single, suffix, open and multiple ranges", () => {
    expect(parseRange("bytes=6-16", 31)).toEqual([[6, 16]]);
    expect(parseRange("bytes=-3", 31)).toEqual([[28, 30]]);
    expect(parseRange("bytes=28-", 31)).toEqual([[28, 30]]);
    expect(parseRange("bytes=6-16,0-4", 31)).toEqual([[6, 16], [0, 4]]);
    expect(parseRange("bytes=0-1000", 31)).toEqual([[0, 30]]);
  });

  it("ignores malformed headers and answers 416 when nothing is satisfiable", () => {
    expect(parseRange("items=0-1", 31)).toBeUndefined();
    expect(parseRange("bytes=5-1", 31)).toBeUndefined();
    expect(parseRange("bytes=-", 31)).toBeUndefined();
    expect(parseRange(null, 31)).toBeUndefined();
    expect(status(() => parseRange("bytes=31-40", 31))).toBe(416);
  });
});
