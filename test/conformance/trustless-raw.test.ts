/**
 * Conformance section A, "Trustless: raw blocks" (R01–R09 of
 * test/fixtures/conformance/README.md, from gateway-conformance
 * trustless_gateway_raw_test.go), replayed against the worker with the
 * honest test upstream behind it.
 */
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { carBlocks, fetchWorker } from "../helpers/upstream";
import { RB_ASCII, RB_ASCII_TEXT, RB_DIR, RB_DIR_SHA256 } from "./fixtures";

const RAW = "application/vnd.ipld.raw";
const CAR = "application/vnd.ipld.car";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The response body is exactly the 57-byte RB_DIR block. */
async function expectRbDirBlock(response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  expect(body.length).toBe(57);
  expect(hex((await sha256.digest(body)).digest)).toBe(RB_DIR_SHA256);
  expect(hex(body.subarray(6, 17))).toBe("1220e778bb8d3e155f6212");
}

describe("A. trustless raw blocks", () => {
  it("R01 ?format=raw returns the block", async () => {
    const response = await fetchWorker(`/ipfs/${RB_DIR}?format=raw`);
    expect(response.status).toBe(200);
    await expectRbDirBlock(response);
  });

  it("R02 Accept: application/vnd.ipld.raw returns the block", async () => {
    const response = await fetchWorker(`/ipfs/${RB_DIR}`, { headers: { Accept: RAW } });
    expect(response.status).toBe(200);
    await expectRbDirBlock(response);
  });

  it("R03 raw response headers: type, length, attachment, nosniff", async () => {
    const response = await fetchWorker(`/ipfs/${RB_ASCII}`, { headers: { Accept: RAW } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe(RAW);
    expect(response.headers.get("Content-Length")).toBe("31");
    expect(response.headers.get("Content-Disposition")).toContain("attachment;");
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(await response.text()).toBe(RB_ASCII_TEXT);
  });

  it("R04 ?filename= sets the attachment file name", async () => {
    const response = await fetchWorker(`/ipfs/${RB_ASCII}?filename=foobar.bin`, { headers: { Accept: RAW } });
    expect(response.status).toBe(200);
    const disposition = response.headers.get("Content-Disposition");
    expect(disposition).toContain("attachment;");
    expect(disposition).toContain('filename="foobar.bin');
    await response.arrayBuffer();
  });

  it("R05 Etag, X-Ipfs-Path, X-Ipfs-Roots and immutable Cache-Control", async () => {
    const response = await fetchWorker(`/ipfs/${RB_ASCII}`, { headers: { Accept: RAW } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Etag")).toMatch(/.+/);
    expect(response.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${RB_ASCII}`);
    expect(response.headers.get("X-Ipfs-Roots")).toContain(RB_ASCII);
    const cacheControl = response.headers.get("Cache-Control") ?? "";
    const directives = cacheControl.split(",").map((directive) => directive.trim());
    expect(directives).toContain("public");
    expect(directives).toContain("immutable");
    const maxAge = directives.find((directive) => directive.startsWith("max-age="));
    expect(Number(maxAge?.slice("max-age=".length))).toBeGreaterThanOrEqual(29_030_400);
    await response.arrayBuffer();
  });

  it("R06 Range: bytes=7-9 gives 206 with that slice, or 200 with the whole block", async () => {
    const response = await fetchWorker(`/ipfs/${RB_ASCII}`, { headers: { Accept: RAW, Range: "bytes=7-9" } });
    expect([200, 206]).toContain(response.status);
    if (response.status === 206) {
      expect(response.headers.get("Content-Range")).toBe("bytes 7-9/31");
      expect(await response.text()).toBe("ppl");
    } else {
      expect(await response.text()).toBe(RB_ASCII_TEXT);
    }
  });

  it("R07 multi-range: 200 whole block, 206 first range, or 206 multipart/byteranges", async () => {
    const response = await fetchWorker(`/ipfs/${RB_ASCII}`, { headers: { Accept: RAW, Range: "bytes=7-9,1-3" } });
    expect([200, 206]).toContain(response.status);
    const contentType = response.headers.get("Content-Type") ?? "";
    const body = await response.text();
    if (response.status === 200) {
      expect(contentType).toBe(RAW);
      expect(body).toBe(RB_ASCII_TEXT);
    } else if (contentType.startsWith("multipart/byteranges")) {
      expect(body).toContain("Content-Range: bytes 7-9/31");
      expect(body).toContain("ppl");
      expect(body).toContain("Content-Range: bytes 1-3/31");
      expect(body).toContain("ell");
    } else {
      expect(response.headers.get("Content-Range")).toBe("bytes 7-9/31");
      expect(body).toBe("ppl");
    }
  });

  it("R08 ?format=car wins over Accept: application/vnd.ipld.raw (IPIP-523)", async () => {
    const response = await fetchWorker(`/ipfs/${RB_DIR}?format=car`, { headers: { Accept: RAW } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain(CAR);
    // dag-scope=all (the default) of RB_DIR: the directory and its one file.
    const car = await carBlocks(response);
    expect(car.blocks.map((block) => block.cid).sort()).toEqual([RB_DIR, RB_ASCII].sort());
  });

  it("R09 ?format=raw wins over Accept: application/vnd.ipld.car", async () => {
    const response = await fetchWorker(`/ipfs/${RB_DIR}?format=raw`, { headers: { Accept: CAR } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe(RAW);
    await expectRbDirBlock(response);
  });
});
