import { describe, expect, it } from "vitest";
import { parseUpstreams } from "../../src/gateway/upstream/upstream-list";

describe("parseUpstreams", () => {
  it("splits on commas, trims, drops empty entries and repeats, strips trailing slashes", () => {
    expect(parseUpstreams(" https://ipfs.io/ , http://127.0.0.1:8080,,  ,https://dweb.link//, https://ipfs.io")).toEqual([
      "https://ipfs.io",
      "http://127.0.0.1:8080",
      "https://dweb.link",
    ]);
  });

  it("keeps a path prefix and the spelling as configured", () => {
    expect(parseUpstreams("http://127.0.0.1:4000/honest/,https://Gateway.Example/prefix")).toEqual([
      "http://127.0.0.1:4000/honest",
      "https://Gateway.Example/prefix",
    ]);
  });

  it("returns an empty list for an empty value", () => {
    expect(parseUpstreams("")).toEqual([]);
    expect(parseUpstreams(" , ")).toEqual([]);
  });

  it("rejects what is not an http(s) base URL, naming the entry", () => {
    expect(() => parseUpstreams("https://ipfs.io,ipfs.io")).toThrow('UPSTREAMS: "ipfs.io" is not a URL');
    expect(() => parseUpstreams("ftp://ipfs.io")).toThrow('UPSTREAMS: "ftp://ipfs.io" is not an http(s) URL');
    expect(() => parseUpstreams("https://user:pw@ipfs.io")).toThrow('UPSTREAMS: "https://user:pw@ipfs.io" must not carry credentials');
    expect(() => parseUpstreams("https://ipfs.io/?x=1")).toThrow('UPSTREAMS: "https://ipfs.io/?x=1" must not have a query or fragment');
    expect(() => parseUpstreams("https://ipfs.io#top")).toThrow('UPSTREAMS: "https://ipfs.io#top" must not have a query or fragment');
    expect(() => parseUpstreams("https://")).toThrow('UPSTREAMS: "https://" is not a URL');
  });
});
