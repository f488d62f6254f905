import { describe, expect, it } from "vitest";
import { originUrl, originUrls } from "../../src/pinning/origins";

describe("origins: multiaddrs to trustless gateway URLs", () => {
  it.each([
    ["/dns4/gw.example/tcp/443/https/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN", "https://gw.example"],
    ["/dns/gw.example/tcp/443/tls/http", "https://gw.example"],
    ["/ip4/127.0.0.1/tcp/8080/http", "http://127.0.0.1:8080"],
    ["/ip6/::1/tcp/80/http", "http://[::1]"],
    ["/ip4/127.0.0.1/tcp/8080/http/http-path/%2Fhonest", "http://127.0.0.1:8080/honest"],
    ["https://gw.example/prefix/", "https://gw.example/prefix"],
    ["/ip4/203.0.113.1/tcp/4001/p2p/QmSourcePeerId", null],
    ["/ip4/203.0.113.114/udp/4001/quic/p2p/QmSourcePeerId", null],
    ["ftp://x", null],
    ["", null],
  ])("%s → %s", (input, expected) => {
    expect(originUrl(input)).toBe(expected);
  });

  it("keeps usable ones, in order, without duplicates", () => {
    expect(originUrls(["/ip4/1.2.3.4/tcp/4001", "http://a.example", "/dns/a.example/tcp/80/http"])).toEqual(["http://a.example"]);
  });
});
