/**
 * The edge cache's in-memory copy of a CAR (src/gateway/cache/car-copy.ts):
 * bounded per copy and, across copies, by one budget; given up at once past
 * either (its bytes let go); handed to the store only when the body ended
 * normally, as copies of the chunks (the client's buffers are reused); the
 * budget held until the store settles.
 */
import { describe, expect, it } from "vitest";
import { CarCopy, CopyBudget, edgeCacheCarMaxBytes, MAX_EDGE_CACHE_CAR_BYTES } from "../../../src/gateway/cache/car-copy";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** A copy whose store records what it got and settles when told to. */
function recorded(maxBytes: number, budget: CopyBudget) {
  const stored: { chunks: Uint8Array[]; length: number }[] = [];
  let finish!: (ok: boolean) => void;
  const copy = new CarCopy(maxBytes, budget, (chunks, length) => {
    stored.push({ chunks: chunks.map((c) => c.slice()), length });
    return new Promise((resolve, reject) => (finish = (ok) => (ok ? resolve(undefined) : reject(new Error("put failed")))));
  });
  let settled = false;
  void copy.settled.then(() => (settled = true));
  return { copy, stored, finish: (ok: boolean) => finish(ok), settled: () => settled };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("CarCopy", () => {
  it("stores a body that ended normally, as copies of its chunks; the budget is held until the store settles", async () => {
    const budget = new CopyBudget(1000);
    const r = recorded(500, budget);
    const a = bytes(100, 1);
    const b = bytes(50, 2);
    expect(r.copy.chunk(a)).toBe(true);
    a.fill(9); // the client's buffer goes back to the pool and is reused: the copy kept its own
    expect(r.copy.chunk(b)).toBe(true);
    expect(budget.held).toBe(150);
    r.copy.end();
    expect(r.stored).toEqual([{ chunks: [bytes(100, 1), bytes(50, 2)], length: 150 }]);
    await tick();
    expect(budget.held).toBe(150);
    expect(r.settled()).toBe(false);
    r.finish(true);
    await tick();
    expect(budget.held).toBe(0);
    expect(r.settled()).toBe(true);
    expect(r.copy.chunk(bytes(1, 1))).toBe(false);
  });

  it("a failed store still gives the budget back", async () => {
    const budget = new CopyBudget(1000);
    const r = recorded(500, budget);
    r.copy.chunk(bytes(10, 1));
    r.copy.end();
    r.finish(false);
    await tick();
    expect(budget.held).toBe(0);
    expect(r.settled()).toBe(true);
  });

  it("a failed body is never stored and lets its bytes go at once", async () => {
    const budget = new CopyBudget(1000);
    const r = recorded(500, budget);
    r.copy.chunk(bytes(200, 1));
    r.copy.fail();
    expect(budget.held).toBe(0);
    r.copy.end(); // whatever the writer says afterwards
    expect(r.stored).toEqual([]);
    await tick();
    expect(r.stored).toEqual([]);
    expect(r.settled()).toBe(true);
  });

  it("exactly maxBytes is kept; one byte past it gives the copy up at once", async () => {
    const budget = new CopyBudget(10_000);
    const exact = recorded(300, budget);
    expect(exact.copy.chunk(bytes(200, 1))).toBe(true);
    expect(exact.copy.chunk(bytes(100, 2))).toBe(true);
    exact.copy.end();
    expect(exact.stored.map((s) => s.length)).toEqual([300]);
    exact.finish(true);
    await tick();

    const over = recorded(300, budget);
    expect(over.copy.chunk(bytes(200, 1))).toBe(true);
    expect(over.copy.chunk(bytes(101, 2))).toBe(false);
    expect(budget.held).toBe(0);
    expect(over.copy.chunk(bytes(1, 3))).toBe(false);
    over.copy.end();
    expect(over.stored).toEqual([]);
    await tick();
    expect(over.settled()).toBe(true);
  });

  it("copies in flight together never hold more than the budget: the one that would go over is given up, the others carry on", async () => {
    const budget = new CopyBudget(1000);
    const copies = Array.from({ length: 5 }, () => recorded(400, budget));
    // Each takes 300 bytes in turn: three fit (900), the fourth and fifth do not.
    const took = copies.map((r) => r.copy.chunk(bytes(300, 1)));
    expect(took).toEqual([true, true, true, false, false]);
    expect(budget.held).toBe(900);
    // A given-up copy let go of nothing it held beyond what it was refused; the others grow within the budget.
    expect(copies[0]!.copy.chunk(bytes(100, 2))).toBe(true);
    expect(budget.held).toBe(1000);
    expect(copies[1]!.copy.chunk(bytes(1, 2))).toBe(false);
    expect(budget.held).toBe(700); // copies[1]'s 300 bytes let go
    for (const r of copies) r.copy.end();
    expect(copies.map((r) => r.stored.map((s) => s.length))).toEqual([[400], [], [300], [], []]);
    for (const r of [copies[0]!, copies[2]!]) r.finish(true);
    await tick();
    expect(budget.held).toBe(0);
    // With the budget free, a new copy fits again.
    expect(recorded(400, budget).copy.chunk(bytes(400, 1))).toBe(true);
  });

  it("EDGE_CACHE_CAR_MAX_BYTES: a byte count, 0 turns CAR caching off, anything else is the default", () => {
    expect(edgeCacheCarMaxBytes("1048576")).toBe(1048576);
    expect(edgeCacheCarMaxBytes("0")).toBe(0);
    for (const v of [undefined, "", " ", "-1", "1.5", "4MiB"]) expect(edgeCacheCarMaxBytes(v)).toBe(MAX_EDGE_CACHE_CAR_BYTES);
  });
});
