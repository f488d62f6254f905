import { describe, expect, it } from "vitest";
import { BufferPool } from "../../../src/gateway/blocks/buffer-pool";

describe("BufferPool", () => {
  it("reuses a released buffer for a request that fits, and only buffers it issued", () => {
    const pool = new BufferPool(2);
    const a = pool.adopt(pool.acquire(1000));
    expect(a.length).toBe(1000);
    expect(pool.owns(a)).toBe(true);
    pool.release(a);
    expect(pool.owns(a)).toBe(false);
    const b = pool.acquire(800);
    expect(b.buffer).toBe(a.buffer); // same memory, a view of the asked length
    expect(b.length).toBe(800);
    const stranger = new Uint8Array(800);
    pool.release(stranger); // not the pool's: ignored
    expect(pool.acquire(800).buffer).not.toBe(stranger.buffer);
  });

  it("never hands out a buffer still in use, and keeps at most maxFree", () => {
    const pool = new BufferPool(1);
    const a = pool.adopt(pool.acquire(10));
    const b = pool.adopt(pool.acquire(10));
    expect(b.buffer).not.toBe(a.buffer);
    pool.release(a);
    pool.release(b); // over maxFree: dropped
    const c = pool.acquire(10);
    expect(c.buffer).toBe(a.buffer);
    expect(pool.acquire(10).buffer).not.toBe(b.buffer);
  });

  it("ignores a buffer that was transferred away (detached)", () => {
    const pool = new BufferPool();
    const a = pool.adopt(pool.acquire(16));
    const moved = (a.buffer as ArrayBuffer).transfer();
    pool.release(a);
    expect(pool.acquire(16).buffer).not.toBe(moved);
  });

  it("with headroom, hands out views that many bytes into their buffer, and reuses a buffer only if block and headroom fit", () => {
    const pool = new BufferPool(2, 100);
    const a = pool.adopt(pool.acquire(1000));
    expect([a.byteOffset, a.length, a.buffer.byteLength]).toEqual([100, 1000, 1100]);
    pool.release(a);
    const b = pool.acquire(1000);
    expect(b.buffer).toBe(a.buffer);
    expect([b.byteOffset, b.length]).toEqual([100, 1000]);
    pool.release(pool.adopt(b));
    expect(pool.acquire(1001).buffer).not.toBe(a.buffer); // 1001 + 100 does not fit in 1100
  });
});
