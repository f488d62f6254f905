/**
 * parseGatewayRequest keeps what a URL and its Accept decide, per isolate
 * (src/gateway/request/gateway-request.ts): a repeated request gets the same
 * parse; anything the memo does not key on (method, headers) stays the
 * request's own, and a malformed request is refused every time.
 */
import { describe, expect, it } from "vitest";
import { edgeCacheUrl } from "../../../src/gateway/cache/cache-key";
import { parseGatewayRequest } from "../../../src/gateway/request/gateway-request";
import { HttpError } from "../../../src/http/errors";

const CID = "bafkreifvyo4lhkaz3u7t4wm4ewfa7lqsiucjgepnfjcybizwl6cspaq3cq";
const url = `https://gw.example/ipfs/${CID}/a%20b?filename=x.bin`;

describe("parseGatewayRequest, repeated", () => {
  it("the same URL with another Accept is another format and another key", () => {
    const first = new Request(url, { headers: { Accept: "application/vnd.ipld.raw" } });
    const second = new Request(url, { headers: { Accept: "application/vnd.ipld.car; version=1; dups=y" } });
    const [a, b] = [parseGatewayRequest(first), parseGatewayRequest(second)];
    expect([a.format.kind, a.format.fromAccept, b.format.kind, b.format.car.dups]).toEqual(["raw", true, "car", true]);
    expect(edgeCacheUrl(a, first)).toBe(`https://gw.example/__edge-cache/v2/raw/accept/n/ipfs/${CID}/a%20b?q.filename=x.bin`);
    expect(edgeCacheUrl(b, second)).toBe(`https://gw.example/__edge-cache/v2/car/accept/y/ipfs/${CID}/a%20b?q.filename=x.bin`);
  });

  it("a repeat is the same parse, with its own method and headers", () => {
    const get = parseGatewayRequest(new Request(url, { headers: { Accept: "application/vnd.ipld.raw" } }));
    const head = parseGatewayRequest(new Request(url, { method: "HEAD", headers: { Accept: "application/vnd.ipld.raw", Range: "bytes=0-9" } }));
    expect(head.path).toBe(get.path);
    expect(head.format).toBe(get.format);
    expect([get.method, head.method]).toEqual(["GET", "HEAD"]);
    expect([get.headers.get("Range"), head.headers.get("Range")]).toEqual([null, "bytes=0-9"]);
    expect(head.path.segments).toEqual(["a b"]);
    expect(head.filename).toBe("x.bin");
  });

  it("a malformed request is refused every time, never remembered", () => {
    const bad = `https://gw.example/ipfs/${CID}?format=nope`;
    for (let i = 0; i < 2; i++) {
      expect(() => parseGatewayRequest(new Request(bad))).toThrow(HttpError);
      expect(() => parseGatewayRequest(new Request(bad))).toThrow('invalid format "nope"');
    }
  });
});
