import { describe, expect, it } from "vitest";
import { originUrl, originUrls } from "../../src/pinning/origins";

describe("origins: multiaddrs to trustless gateway URLs", () => {
  it.each([
    ["/dns4/gw.example/tcp/443/https/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN", "https://gw.example"],
    ["/dns/gw.example/tcp/443/tls/http", "https://gw.example"],
    ["/ip4/203.0.113.5/tcp/8080/http", "http://203.0.113.5:8080"],
    ["/ip6/2001:db8::1/tcp/80/http", "http://[2001:db8::1]"],
    ["/ip4/203.0.113.5/tcp/8080/http/http-path/%2Fhonest", "http://203.0.113.5:8080/honest"],
    ["https://gw.example/prefix/", "https://gw.example/prefix"],
    // Private, loopback, link-local and metadata addresses are never used (however they are spelled).
    ["/ip4/127.0.0.1/tcp/8080/http", null],
    ["/ip4/0177.0.0.1/tcp/8080/http", null],
    ["/ip6/::1/tcp/80/http", null],
    ["/ip6/::ffff:127.0.0.1/tcp/80/http", null],
    ["/ip6/fe80::1/tcp/80/http", null],
    ["/ip6/fd00::1/tcp/80/http", null],
    ["/ip4/10.0.0.1/tcp/80/http", null],
    ["/ip4/172.16.5.4/tcp/80/http", null],
    ["/ip4/192.168.1.1/tcp/443/https", null],
    ["/ip4/100.64.0.1/tcp/80/http", null],
    ["/ip4/169.254.169.254/tcp/80/http", null],
    ["/dns/localhost/tcp/80/http", null],
    ["/dns4/metadata.google.internal/tcp/80/http", null],
    ["/dns/metadata/tcp/80/http", null],
    ["http://127.0.0.1:8080/", null],
    ["http://2130706433:8080/", null],
    ["http://0x7f000001/", null],
    ["http://[::1]:8080/", null],
    ["http://169.254.169.254/latest/meta-data", null],
    ["http://metadata.google.internal/computeMetadata/v1", null],
    ["http://printer.local/", null],
    ["http://localhost:8080/", null],
    ["/ip4/203.0.113.1/tcp/4001/p2p/QmSourcePeerId", null],
    ["/ip4/203.0.113.114/udp/4001/quic/p2p/QmSourcePeerId", null],
    ["ftp://x", null],
    ["", null],
  ])("%s → %s", (input, expected) => {
    expect(originUrl(input)).toBe(expected);
  });

  it("private addresses only when the caller vouches for them", () => {
    expect(originUrl("/ip4/127.0.0.1/tcp/8080/http/http-path/%2Fhonest", true)).toBe("http://127.0.0.1:8080/honest");
    expect(originUrls(["http://127.0.0.1:1/a", "/ip6/::1/tcp/80/http"], true)).toEqual(["http://127.0.0.1:1/a", "http://[::1]"]);
    expect(originUrls(["http://127.0.0.1:1/a", "/ip6/::1/tcp/80/http"])).toEqual([]);
  });

  it("keeps usable ones, in order, without duplicates", () => {
    expect(originUrls(["/ip4/1.2.3.4/tcp/4001", "http://a.example", "/dns/a.example/tcp/80/http"])).toEqual(["http://a.example"]);
  });
});
