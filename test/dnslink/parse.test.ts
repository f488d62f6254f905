import { describe, expect, it } from "vitest";
import { HttpError } from "../../src/http/errors";
import { decodeDnslinkLabel, encodeDnslinkLabel, normalizeDomain } from "../../src/dnslink/domain";
import { dnslinkEntries, txtDataToText } from "../../src/dnslink/txt";

const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

describe("txtDataToText (DoH JSON `data` of a TXT answer)", () => {
  it("unquotes Cloudflare-style data and joins split character-strings", () => {
    expect(txtDataToText('"dnslink=/ipfs/abc"')).toBe("dnslink=/ipfs/abc");
    expect(txtDataToText('"dnslink=/ipfs/ab" "c/d"')).toBe("dnslink=/ipfs/abc/d");
  });

  it("takes Google-style unquoted data as is", () => {
    expect(txtDataToText("dnslink=/ipfs/abc")).toBe("dnslink=/ipfs/abc");
  });

  it("unescapes \\\" \\\\ and \\DDD", () => {
    expect(txtDataToText('"a\\"b\\\\c\\046d"')).toBe('a"b\\c.d');
  });

  it("leaves text with an unterminated quote alone", () => {
    expect(txtDataToText('"dnslink=/ipfs/abc')).toBe('"dnslink=/ipfs/abc');
  });
});

describe("dnslinkEntries", () => {
  it("keeps valid ipfs/ipns entries sorted, ignores other TXT and other namespaces, reports malformed ones", () => {
    expect(
      dnslinkEntries([
        "v=spf1 -all",
        "dnslink=/ipns/example.org/sub",
        `dnslink=/ipfs/${GC_INDEX}`,
        "dnslink=/ipns/k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam",
        "dnslink=/foo/bar",
        "dnslink=/ipfs/not-a-cid",
        "dnslink=ipfs/x",
        "dnslink=/ipns/not_a_key",
        "dnslink=/ipfs/bafk ré",
      ]),
    ).toEqual({
      valid: [
        `/ipfs/${GC_INDEX}`,
        "/ipns/example.org/sub",
        "/ipns/k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam",
      ],
      malformed: [
        { entry: "dnslink=/ipfs/not-a-cid", reason: "not a CID" },
        { entry: "dnslink=ipfs/x", reason: "not /namespace/identifier" },
        { entry: "dnslink=/ipns/not_a_key", reason: "not an IPNS name or DNS name" },
        { entry: "dnslink=/ipfs/bafk ré", reason: "not printable ASCII" },
      ],
    });
  });
});

describe("DNSLink names", () => {
  it("normalises case and a trailing dot", () => {
    expect(normalizeDomain("DNSLink-Test.Example.ORG.")).toBe("dnslink-test.example.org");
  });

  it("refuses what is not a DNS name with a 400", () => {
    for (const bad of ["localhost", "a..b", "-a.b", "a.b-", "a b.c", `${"a".repeat(64)}.org`, `${"a.".repeat(127)}org`]) {
      let status = 0;
      try {
        normalizeDomain(bad);
      } catch (err) {
        status = (err as HttpError).status;
      }
      expect(status, bad).toBe(400);
    }
  });

  it("inlines DNSLink names into one label and back (subdomain-gateway spec, conformance S11/S12)", () => {
    expect(encodeDnslinkLabel("en.wikipedia-on-ipfs.example.org")).toBe("en-wikipedia--on--ipfs-example-org");
    expect(decodeDnslinkLabel("en-wikipedia--on--ipfs-example-org")).toBe("en.wikipedia-on-ipfs.example.org");
    expect(encodeDnslinkLabel("dnslink-test.example.org")).toBe("dnslink--test-example-org");
    expect(decodeDnslinkLabel("dnslink--test-example-org")).toBe("dnslink-test.example.org");
    expect(decodeDnslinkLabel("example-org")).toBe("example.org");
    for (const domain of ["a-b.c-d.e", "x--y.z", "dnslink-over-ipns-cidv1.example.org"]) {
      expect(decodeDnslinkLabel(encodeDnslinkLabel(domain))).toBe(domain);
    }
  });
});
