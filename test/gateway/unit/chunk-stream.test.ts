/**
 * ChunkStream (src/gateway/handlers/chunk-stream.ts), the CAR and file
 * bodies' stream: each chunk goes to the reader as it was written (same
 * bytes, same boundaries); a write settles true once the runtime's reader
 * has asked for a later chunk (the buffer may be reused), false once
 * JavaScript reads the stream itself (it may keep chunks: a tee() branch);
 * a promised length is enforced both ways, and a cancelled or aborted body
 * rejects the writes still pending. The runtime's own pump (a Response body
 * sent over a binding, with pooled buffers reused) is covered byte for byte
 * by test/gateway/path/car-bytes.test.ts, unixfs-file.test.ts and
 * cache/edge-cache.test.ts.
 */
import { describe, expect, it } from "vitest";
import { ChunkStream } from "../../../src/gateway/handlers/chunk-stream";
import { pseudoRandomBytes } from "../../helpers/pseudo-random";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("ChunkStream", () => {
  it("read by the runtime (Response.arrayBuffer): exact bytes, each write settles true once the reader asked for more", async () => {
    const chunks = [pseudoRandomBytes(70_000, 1), pseudoRandomBytes(1, 2), pseudoRandomBytes(300_001, 3)];
    const want = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((at, c) => (want.set(c, at), at + c.length), 0);
    const stream = new ChunkStream(want.length);
    const all = new Response(stream.readable).arrayBuffer();
    const settled: boolean[] = [];
    for (const c of chunks) settled.push(await stream.write(new Uint8Array(c)));
    await stream.close();
    expect(new Uint8Array(await all)).toEqual(want);
    expect(settled).toEqual([true, true, true]);
    expect(stream.lending).toBe(true);
  });

  it("a write settles only when the reader comes back for the next chunk", async () => {
    const stream = new ChunkStream();
    const reader = stream.readable.getReader();
    let first: boolean | undefined;
    void stream.write(pseudoRandomBytes(10, 4)).then((r) => (first = r));
    const a = await reader.read();
    expect(a.value).toEqual(pseudoRandomBytes(10, 4));
    await tick();
    expect(first).toBeUndefined(); // the reader still holds it
    const nextRead = reader.read();
    await tick();
    // JavaScript read it (getReader): handed over, its buffer must not be reused.
    expect(first).toBe(false);
    expect(stream.lending).toBe(false);
    void stream.write(pseudoRandomBytes(5, 5));
    expect((await nextRead).value).toEqual(pseudoRandomBytes(5, 5));
    await stream.close();
    expect((await reader.read()).done).toBe(true);
  });

  it("tee() hands chunks over: the same chunk object reaches both branches and no write settles true", async () => {
    const stream = new ChunkStream();
    const [left, right] = stream.readable.tee();
    const bytes = pseudoRandomBytes(1000, 6);
    const written = stream.write(bytes);
    const r = right.getReader();
    const l = left.getReader();
    const [x, y] = await Promise.all([l.read(), r.read()]);
    expect(x.value).toEqual(bytes);
    expect(y.value).toEqual(bytes);
    void l.read();
    await stream.close();
    expect(await written).toBe(false);
  });

  it("a body shorter than its length errors instead of ending; a longer one errors at the write that overflows", async () => {
    const short = new ChunkStream(10);
    const shortBody = new Response(short.readable).arrayBuffer();
    await short.write(pseudoRandomBytes(9, 7));
    await expect(short.close()).rejects.toThrow("body of 9 bytes where 10 were promised");
    await expect(shortBody).rejects.toThrow();

    const long = new ChunkStream(10);
    const longBody = new Response(long.readable).arrayBuffer();
    await long.write(pseudoRandomBytes(6, 8));
    await expect(long.write(pseudoRandomBytes(6, 9))).rejects.toThrow("body of more than the 10 bytes promised");
    await expect(longBody).rejects.toThrow();
    await expect(long.write(pseudoRandomBytes(1, 10))).rejects.toThrow("more than the 10 bytes");
  });

  it("a reader that cancels rejects the writes it did not finish; abort errors the reader", async () => {
    const stream = new ChunkStream();
    const reader = stream.readable.getReader();
    const first = stream.write(pseudoRandomBytes(3, 11));
    const second = stream.write(pseudoRandomBytes(3, 12));
    await reader.read();
    await reader.cancel(new Error("client went away"));
    await expect(first).rejects.toThrow("client went away");
    await expect(second).rejects.toThrow("client went away");
    await expect(stream.write(pseudoRandomBytes(1, 13))).rejects.toThrow("client went away");

    const aborted = new ChunkStream();
    const r = aborted.readable.getReader();
    const pending = aborted.write(pseudoRandomBytes(3, 14));
    await aborted.abort(new Error("upstreams exhausted"));
    await expect(pending).rejects.toThrow("upstreams exhausted");
    await expect(r.read()).rejects.toThrow("upstreams exhausted");
  });
});
