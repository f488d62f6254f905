import { describe, expect, it } from "vitest";
import { gatewayUrlOf, isPrivateUrl } from "../../../src/gateway/providers/multiaddr-url";

describe("gatewayUrlOf: HTTP gateway base URL of a provider multiaddr", () => {
  const cases: [string, boolean, string | undefined][] = [
    ["/dns/gw.example/tcp/443/https", false, "https://gw.example"],
    ["/dns4/GW.Example/tcp/8443/https", false, "https://gw.example:8443"],
    ["/dns/gw.example/tcp/443/tls/http", false, "https://gw.example"],
    ["/dns/gw.example/tcp/443/tls/sni/gw.example/http", false, "https://gw.example"],
    ["/dns6/gw.example/tcp/80/http", false, "http://gw.example"],
    ["/ip4/203.0.113.7/tcp/8080/http", false, "http://203.0.113.7:8080"],
    ["/ip6/2001:db8::1/tcp/443/https", false, "https://[2001:db8::1]"],
    ["/dns/gw.example/tcp/443/https/http-path/%2Fgateway%2Fv1", false, "https://gw.example/gateway/v1"],
    ["/dns/gw.example/tcp/443/https/http-path/sub", false, "https://gw.example/sub"],
    ["/dns/gw.example/tcp/443/https/p2p/12D3KooWEXAMPLE", false, "https://gw.example"],
    ["/ip4/127.0.0.1/tcp/8080/http/http-path/honest", true, "http://127.0.0.1:8080/honest"],
    // not HTTP gateways, or malformed
    ["/ip4/203.0.113.7/tcp/4001", false, undefined],
    ["/ip4/203.0.113.7/udp/4001/quic-v1", false, undefined],
    ["/dns/gw.example/tcp/443/wss", false, undefined],
    ["/ip4/999.0.0.1/tcp/80/http", false, undefined],
    ["/dns/gw.example/tcp/99999/http", false, undefined],
    ["/dns/gw.example/tcp/443/https/http-path/%2E%2E", false, undefined],
    ["/dns/gw.example/tcp/443/https/extra/stuff", false, undefined],
    ["dns/gw.example/tcp/443/https", false, undefined],
    // private addresses: only when the router itself is private
    ["/ip4/127.0.0.1/tcp/8080/http", false, undefined],
    ["/ip4/10.1.2.3/tcp/80/http", false, undefined],
    ["/ip4/192.168.1.1/tcp/80/http", false, undefined],
    ["/ip4/169.254.169.254/tcp/80/http", false, undefined],
    ["/ip6/::1/tcp/80/http", false, undefined],
    ["/ip6/fd00::1/tcp/80/http", false, undefined],
    ["/dns/localhost/tcp/80/http", false, undefined],
    ["/dns/metadata.google.internal/tcp/80/http", false, undefined],
    ["/dns/metadata/tcp/80/http", false, undefined],
    ["/ip4/100.100.100.200/tcp/80/http", false, undefined],
    ["/ip4/224.0.0.1/tcp/80/http", false, undefined],
    ["/ip4/0.0.0.0/tcp/80/http", false, undefined],
    ["/ip6/fe80::1/tcp/80/http", false, undefined],
    ["/ip6/::ffff:127.0.0.1/tcp/80/http", false, undefined],
    ["/ip4/0177.0.0.1/tcp/80/http", false, undefined], // octal 127.0.0.1 to the URL parser
  ];
  for (const [addr, allowPrivate, want] of cases) {
    it(`${addr}${allowPrivate ? " (private allowed)" : ""} → ${want ?? "none"}`, () => {
      expect(gatewayUrlOf(addr, allowPrivate)).toBe(want);
    });
  }

  it("a router on a private address may name private providers; a public one may not", () => {
    expect(isPrivateUrl("http://127.0.0.1:1234")).toBe(true);
    expect(isPrivateUrl("http://[::1]:1234")).toBe(true);
    expect(isPrivateUrl("https://cid.contact")).toBe(false);
    expect(isPrivateUrl("https://203.0.113.7/")).toBe(false);
    expect(isPrivateUrl("http://169.254.169.254/")).toBe(true);
    expect(isPrivateUrl("http://localhost:8080/")).toBe(true);
    expect(isPrivateUrl("http://2130706433/")).toBe(true);
  });
});
