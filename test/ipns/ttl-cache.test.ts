import { describe, expect, it } from "vitest";
import { TtlCache } from "../../src/ipns/ttl-cache";

describe("TtlCache", () => {
  it("returns entries until their expiry, then forgets them", () => {
    const cache = new TtlCache<string>(10);
    cache.set("a", "x", 2000, 1000);
    expect(cache.get("a", 1999)).toEqual({ value: "x", expiresAt: 2000 });
    expect(cache.get("a", 2000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("stores nothing with an expiry in the past", () => {
    const cache = new TtlCache<string>(10);
    cache.set("a", "x", 1000, 1000);
    expect(cache.size).toBe(0);
  });

  it("evicts the oldest insert when full", () => {
    const cache = new TtlCache<number>(2);
    cache.set("a", 1, 9000, 0);
    cache.set("b", 2, 9000, 0);
    cache.set("a", 3, 9000, 0); // re-insert moves a to the back
    cache.set("c", 4, 9000, 0);
    expect(cache.get("b", 0)).toBeUndefined();
    expect(cache.get("a", 0)?.value).toBe(3);
    expect(cache.get("c", 0)?.value).toBe(4);
  });
});
