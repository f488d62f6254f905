/**
 * The compact denylist parser (IPIP-383 "File syntax", "Block item",
 * "Hints"): one item per line, streamed, header optional.
 */
import { describe, expect, it } from "vitest";
import { DenylistFormatError, parseDenylist } from "../../src/denylist/parse";
import { bytesToHex, parseRule, type DenyRule } from "../../src/denylist/rule";

/** A body delivered in small, arbitrary slices (lines split across chunks). */
function stream(text: string, slice = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  return new ReadableStream({
    pull(controller) {
      if (off >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(off, off + slice));
      off += slice;
    },
  });
}

async function collect(text: string, slice?: number) {
  const hashes: { hex: string; line: number }[] = [];
  const rules: { text: string; line: number; negated: boolean; status?: number }[] = [];
  const stats = await parseDenylist(stream(text, slice), {
    hash: (d, line) => hashes.push({ hex: bytesToHex(d), line }),
    rule: (r: DenyRule, line) => rules.push({ text: r.text, line, negated: r.negated, status: r.status }),
  });
  return { stats, hashes, rules };
}

const HEX_A = "d9d295bde21f422d471a90f2a37ec53049fdf3e5fa3ee2e8f20e10003da429e7";
const HEX_B = "3f8b9febd851873b3774b937cce126910699ceac56e72e64b866f8e258d09572";

describe("parseRule", () => {
  it("reads every kind of block item", () => {
    const cid = parseRule("/ipfs/bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq");
    expect(cid).toMatchObject({ negated: false, target: { kind: "ipfs", path: "", prefix: false } });
    // CIDv1 dag-pb and the CIDv0 of the same multihash anchor on the same base58 multihash.
    const v0 = parseRule("/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo");
    expect("target" in cid && "target" in v0 && cid.target.kind === "ipfs" && v0.target.kind === "ipfs").toBe(true);
    expect((cid as DenyRule).target).toEqual((v0 as DenyRule).target);
    expect((v0 as DenyRule).target).toEqual({ kind: "ipfs", multihash: "QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo", path: "", prefix: false });

    expect(parseRule("/ipfs/QmdWFA9FL52hx3j9EJZPQP1ZUH8Ygi5tLCX2cRDs6knSf8/*")).toMatchObject({ target: { path: "", prefix: true } });
    expect(parseRule("/ipfs/QmTuvSQbEDR3sarFAN9kAeXBpiBCyYYNxdxciazBba11eC/test/*")).toMatchObject({ target: { path: "test", prefix: true } });
    expect(parseRule("/ipfs/Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2/test*")).toMatchObject({ target: { path: "test", prefix: true } });
    expect(parseRule("/ipfs/Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2/a%20b/c/")).toMatchObject({ target: { path: "a b/c", prefix: false } });
    expect(parseRule("!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blocked/not")).toMatchObject({
      negated: true,
      text: "!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blocked/not",
    });
    expect(parseRule("/ipns/Domain.Example")).toMatchObject({ target: { kind: "ipns", name: "domain.example", path: "" } });
    // An IPNS key in base36, base32 and as a peer ID anchors on the same multihash.
    const k36 = parseRule("/ipns/k51qzi5uqu5dhmzyv3zac033i7rl9hkgczxyl81lwoukda2htteop7d3x0y1mf") as DenyRule;
    const k32 = parseRule("/ipns/bafzaajaiaejcaotjfs57kieazxny5japcmy5p2pgv2cic77tu6ogghttvurnrufx") as DenyRule;
    const peer = parseRule("/ipns/12D3KooWDkNqEJNmreF3NYYFK1ws7Ra2fuW6cHBTu567SPV3LdYA") as DenyRule;
    expect(k36.target).toEqual(k32.target);
    expect(k36.target).toEqual(peer.target);
    expect(k36.target).toMatchObject({ kind: "ipns", name: "12D3KooWDkNqEJNmreF3NYYFK1ws7Ra2fuW6cHBTu567SPV3LdYA" });
  });

  it("reads both double-hash forms", () => {
    const legacy = parseRule(`//${HEX_A}`) as DenyRule;
    expect(legacy.target.kind === "hash" && [legacy.target.form, bytesToHex(legacy.target.digest)]).toEqual(["legacy", HEX_A]);
    // base58btc sha2-256 multihash: the digest is the 32 bytes after 0x12 0x20.
    const modern = parseRule("//QmX9dhRcQcKUw3Ws8485T5a9dtjrSCQaUAHnG4iK9i4ceM") as DenyRule;
    expect(modern.target.kind === "hash" && modern.target.form).toBe("multihash");
    expect(parseRule("//gW813G35CnLsy7gRYYHuf63hrz71U1xoLFDVeV7actx6oX")).toMatchObject({ error: "unsupported" });
    expect(parseRule("//not-a-hash!")).toMatchObject({ error: "malformed" });
  });

  it("reads status hints in both spellings and rejects others", () => {
    expect(parseRule("/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo status=451")).toMatchObject({ status: 451 });
    expect(parseRule("/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo gateway_status:451 reason:dmca")).toMatchObject({ status: 451 });
    expect(parseRule("/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo unrelated")).toMatchObject({ status: undefined });
    expect(parseRule("/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo status=500")).toEqual({
      error: "malformed",
      reason: 'unsupported status hint "status=500"',
    });
  });

  it("rejects what is not a rule", () => {
    expect(parseRule("/ipfs/notacid")).toEqual({ error: "malformed", reason: 'not a CID: "notacid"' });
    expect(parseRule("/ipfs/")).toMatchObject({ error: "malformed" });
    expect(parseRule("/foo/bar")).toMatchObject({ error: "malformed" });
    expect(parseRule("/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo/%zz")).toMatchObject({ error: "malformed" });
  });
});

describe("parseDenylist", () => {
  it("reads the header, its status hint, and every item with its line", async () => {
    const { stats, hashes, rules } = await collect(
      [
        "version: 1",
        'name: "Test list"',
        "description: test # trailing comment",
        "hints:",
        "  gateway_status: 451",
        "  double_hash_fn: sha256",
        "custom:",
        "  - anything: goes",
        "---",
        "# comment",
        "",
        `//${HEX_A}`,
        `//${HEX_B} status=410`,
        `!//${HEX_A}`,
        "/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo\r",
        "garbage line",
        "//gW813G35CnLsy7gRYYHuf63hrz71U1xoLFDVeV7actx6oX",
        `  //${HEX_B}  `,
      ].join("\n"),
    );
    expect(stats.header).toEqual({ version: 1, name: "Test list", description: "test", hints: { gateway_status: "451", double_hash_fn: "sha256" }, status: 451 });
    expect(hashes).toEqual([
      { hex: HEX_A, line: 12 },
      { hex: HEX_B, line: 18 },
    ]);
    expect(rules).toEqual([
      { text: `//${HEX_B}`, line: 13, negated: false, status: 410 },
      { text: `!//${HEX_A}`, line: 14, negated: true, status: undefined },
      { text: "/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo", line: 15, negated: false, status: undefined },
    ]);
    expect([stats.lines, stats.hashes, stats.rules, stats.malformed, stats.unsupported]).toEqual([18, 2, 3, 1, 1]);
    expect(stats.errors).toEqual([
      'line 16: not a /ipfs/, /ipns/ or // rule: "garbage"',
      'line 17: double-hash uses a hash function other than sha2-256: "gW813G35CnLsy7gRYYHuf63hrz71U1xoLFDVeV7actx6oX"',
    ]);
  });

  it("a list without header starts with items (the first line is an item)", async () => {
    const { stats, hashes } = await collect(`//${HEX_A}\n//${HEX_B}`, 3);
    expect(stats.header.status).toBe(410);
    expect(hashes).toEqual([
      { hex: HEX_A, line: 1 },
      { hex: HEX_B, line: 2 },
    ]);
  });

  it("lines before a missing `---` are items; the malformed ones are counted", async () => {
    const { stats, rules } = await collect("name: x\n/ipns/example.org\n");
    expect(rules.map((r) => [r.text, r.line])).toEqual([["/ipns/example.org", 2]]);
    expect(stats.malformed).toBe(1);
  });

  it("rejects an unsupported version and lines over 2 MiB", async () => {
    await expect(collect("version: 2\n---\n")).rejects.toThrow(new DenylistFormatError('unsupported denylist version "2"'));
    await expect(collect(`//${HEX_A}\n${"x".repeat(2 * 1024 * 1024 + 1)}`, 65536)).rejects.toThrow("line 2 is longer than 2 MiB");
  });

  it("keeps multi-byte characters split across chunks intact", async () => {
    const { rules } = await collect("/ipns/bücher.example\n", 1);
    expect(rules).toEqual([{ text: "/ipns/bücher.example", line: 1, negated: false, status: undefined }]);
  });
});
