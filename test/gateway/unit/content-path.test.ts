import { describe, expect, it } from "vitest";
import { HttpError } from "../../../src/http/errors";
import { parseIpfsPath } from "../../../src/gateway/request/content-path";

function error(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error("expected an HttpError");
}

describe("parseIpfsPath", () => {
  it("parses a CIDv1 with a percent-encoded path and trailing slash", () => {
    const p = parseIpfsPath("/ipfs/bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i/%C4%85/%C4%99/");
    expect(p.root.toString()).toBe("bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i");
    expect(p.segments).toEqual(["ą", "ę"]);
    expect(p.trailingSlash).toBe(true);
    expect(p.raw).toBe("/ipfs/bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i/%C4%85/%C4%99/");
  });

  it("keeps CIDv0 as given and decodes %25 once (P28)", () => {
    const p = parseIpfsPath("/ipfs/QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk/Portugal%252C+Espa%C3%B1a");
    expect(p.root.version).toBe(0);
    expect(p.segments).toEqual(["Portugal%2C+España"]);
    expect(p.trailingSlash).toBe(false);
  });

  it("rejects an invalid CID with the spec's message (S10)", () => {
    const e = error(() => parseIpfsPath("/ipfs/QmInvalidCID"));
    expect(e.status).toBe(400);
    expect(e.message).toBe('invalid path "/ipfs/QmInvalidCID": not a valid CID');
  });

  it("rejects an empty CID, dot segments and broken escapes", () => {
    expect(error(() => parseIpfsPath("/ipfs/")).status).toBe(400);
    expect(error(() => parseIpfsPath("/ipfs/bafkqaaa/../x")).message).toContain('segment ".." is not allowed');
    expect(error(() => parseIpfsPath("/ipfs/bafkqaaa/a%2Fb")).message).toContain('segment "a/b" is not allowed');
    expect(error(() => parseIpfsPath("/ipfs/bafkqaaa/%E0%A4%A")).message).toContain("bad percent-encoding");
  });

  it("bounds echoed input and strips control characters", () => {
    const e = error(() => parseIpfsPath("/ipfs/" + "x".repeat(1000) + "%0A"));
    expect(e.message.length).toBeLessThan(320);
    expect(e.message).not.toContain("\n");
  });
});
