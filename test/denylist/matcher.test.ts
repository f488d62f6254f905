/**
 * Matching (docs/denylist.md, "Matching"), on snapshots built here from list
 * texts. Expected double-hashes are computed in the test from the format's
 * definition (IPIP-383 "Doublehash-Rule") and cross-checked against the
 * values the spec and nopfs' test.deny publish.
 */
import { CID } from "multiformats/cid";
import { describe, expect, it } from "vitest";
import { DenylistMatcher } from "../../src/denylist/matcher";
import { parseDenylist } from "../../src/denylist/parse";
import { bytesToHex } from "../../src/denylist/rule";
import type { DenylistSnapshot, SnapshotList, SnapshotRule } from "../../src/denylist/snapshot";

async function sha256Hex(text: string): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** A snapshot of these list texts, laid out as the Denylist object does (plain `//` digests as sorted 8-byte keys). */
async function snapshotOf(...texts: string[]): Promise<DenylistSnapshot> {
  const lists: SnapshotList[] = [];
  const rules: SnapshotRule[] = [];
  for (const [index, text] of texts.entries()) {
    const digests: Uint8Array[] = [];
    const body = new Response(text).body!;
    const stats = await parseDenylist(body, {
      hash: (d) => digests.push(d),
      rule: (r, line) => rules.push({ list: index, line, text: r.text, status: r.status ?? null }),
    });
    const pairs = digests
      .map((d) => [new DataView(d.buffer, d.byteOffset).getUint32(0), new DataView(d.buffer, d.byteOffset).getUint32(4)] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    lists.push({ id: `list-${index}`, status: stats.header.status, keys: Uint32Array.from(pairs.flat()) });
  }
  return { version: 1, lists, rules };
}

const cid = (s: string) => CID.parse(s);

describe("CID rules match by multihash", () => {
  it("CIDv0, CIDv1 dag-pb and CIDv1 raw of one multihash (test.deny rule1)", async () => {
    const m = new DenylistMatcher(await snapshotOf("/ipfs/bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq\n"));
    const rule = "/ipfs/bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq";
    for (const c of [
      "bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq",
      "bafkreihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq",
      "QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo",
    ]) {
      expect(await m.isDenied(cid(c))).toEqual({ status: 410, rule, list: "list-0" });
      // a CID-level block covers paths under it (its root block cannot be served)
      expect(await m.isDenied(cid(c), ["any", "path"])).toEqual({ status: 410, rule, list: "list-0" });
    }
    expect(await m.isDenied(cid("bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"))).toBeUndefined();
  });

  it("path prefixes, exact paths and allow exceptions; the last match wins (test.deny rules 2–5)", async () => {
    const m = new DenylistMatcher(
      await snapshotOf(
        [
          "/ipfs/QmdWFA9FL52hx3j9EJZPQP1ZUH8Ygi5tLCX2cRDs6knSf8/*",
          "/ipfs/Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2/test*",
          "/ipfs/QmTuvSQbEDR3sarFAN9kAeXBpiBCyYYNxdxciazBba11eC/test/*",
          "/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blocked*",
          "!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blockednot",
          "!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blocked/not",
          "!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blocked/exceptions*",
          "/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo/exact/file.txt status=451",
        ].join("\n"),
      ),
    );
    const denied = async (c: string, ...p: string[]) => (await m.isDenied(cid(c), p))?.status ?? "ok";
    expect(await denied("QmdWFA9FL52hx3j9EJZPQP1ZUH8Ygi5tLCX2cRDs6knSf8")).toBe(410);
    expect(await denied("QmdWFA9FL52hx3j9EJZPQP1ZUH8Ygi5tLCX2cRDs6knSf8", "a", "b")).toBe(410);
    expect(await denied("Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2")).toBe("ok");
    expect(await denied("Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2", "test")).toBe(410);
    expect(await denied("Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2", "test2", "x")).toBe(410);
    expect(await denied("Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2", "tes")).toBe("ok");
    expect(await denied("QmTuvSQbEDR3sarFAN9kAeXBpiBCyYYNxdxciazBba11eC", "test", "a")).toBe(410);
    expect(await denied("QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK", "blocked")).toBe(410);
    expect(await denied("QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK", "blockedyes")).toBe(410);
    expect(await denied("QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK", "blockednot")).toBe("ok");
    expect(await denied("QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK", "blocked", "not")).toBe("ok");
    expect(await denied("QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK", "blocked", "not", "sub")).toBe(410);
    expect(await denied("QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK", "blocked", "exceptions", "x")).toBe("ok");
    expect(await denied("QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK")).toBe("ok");
    // exact path rule with a status hint; CIDv1 of the same multihash
    expect(await denied("bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq", "exact", "file.txt")).toBe(451);
    expect(await denied("bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq", "exact")).toBe("ok");
    expect(await denied("bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq", "exact", "file.txt", "x")).toBe("ok");
  });

  it("an allow rule before the deny rule does not win (spec example under Negated rules)", async () => {
    const m = new DenylistMatcher(await snapshotOf("!/ipns/my.domain\n/ipns/my.domain\n/ipns/other.domain\n!/ipns/other.domain\n"));
    expect(await m.isNameDenied("my.domain")).toMatchObject({ status: 410, rule: "/ipns/my.domain" });
    expect(await m.isNameDenied("other.domain")).toBeUndefined();
  });
});

describe("double-hashed entries", () => {
  it("legacy sha256(CIDV1B32/) and sha256(CIDV1B32/PATH) (test.deny rules 10, 11; badbits)", async () => {
    const root = "bafybeiefwqslmf6zyyrxodaxx4vwqircuxpza5ri45ws3y5a62ypxti42e";
    const rootHash = await sha256Hex(`${root}/`);
    const pathHash = await sha256Hex(`${root}/path`);
    // the published values of test.deny are these definitions
    expect(rootHash).toBe("d9d295bde21f422d471a90f2a37ec53049fdf3e5fa3ee2e8f20e10003da429e7");
    expect(pathHash).toBe("3f8b9febd851873b3774b937cce126910699ceac56e72e64b866f8e258d09572");

    const m = new DenylistMatcher(await snapshotOf(`version: 1\n---\n//${rootHash}\n`, `//${pathHash}\n`));
    expect(await m.isDenied(cid(root))).toEqual({ status: 410, rule: `//${rootHash}`, list: "list-0" });
    // the CIDv0 of that dag-pb CID has the same CIDv1 base32 form
    expect(await m.isDenied(cid(root).toV0())).toMatchObject({ rule: `//${rootHash}` });
    // legacy entries block by CID, not multihash: the raw-codec CID is not blocked
    expect(await m.isDenied(CID.createV1(0x55, cid(root).multihash))).toBeUndefined();
    // a blocked root blocks its paths too
    expect(await m.isDenied(cid(root), ["other"])).toMatchObject({ rule: `//${rootHash}` });

    const onlyPath = new DenylistMatcher(await snapshotOf(`//${pathHash}\n`));
    expect(await onlyPath.isDenied(cid(root), ["path"])).toEqual({ status: 410, rule: `//${pathHash}`, list: "list-0" });
    expect(await onlyPath.isDenied(cid(root), ["path2"])).toBeUndefined();
    expect(await onlyPath.isDenied(cid(root))).toBeUndefined();
  });

  it("modern base58 multihash of sha256(B58MH[/PATH]) (test.deny rule 12, spec note)", async () => {
    const v0 = "QmVTF1yEejXd9iMgoRTFDxBv7HAz9kuZcQNBzHrceuK9HR";
    // //QmX9dh… is the base58 sha2-256 multihash of the text "QmVTF1…": 0x12 0x20 + sha256(text)
    const digest = await sha256Hex(v0);
    const m = new DenylistMatcher(await snapshotOf("//QmX9dhRcQcKUw3Ws8485T5a9dtjrSCQaUAHnG4iK9i4ceM\n"));
    expect(await m.isDenied(cid(v0))).toEqual({ status: 410, rule: `//${digest}`, list: "list-0" });
    expect(await m.isDenied(cid("bafybeidjwik6im54nrpfg7osdvmx7zojl5oaxqel5cmsz46iuelwf5acja"))).toMatchObject({ rule: `//${digest}` });
    expect(await m.isDenied(CID.createV1(0x55, cid(v0).multihash))).toMatchObject({ rule: `//${digest}` });

    // spec note: //QmSju6… blocks /ipfs/bafybeihrw75…/my/path
    const pathRule = new DenylistMatcher(await snapshotOf("//QmSju6XPmYLG611rmK7rEeCMFVuL6EHpqyvmEU6oGx3GR8\n"));
    const c = cid("bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze");
    expect(await pathRule.isDenied(c, ["my", "path"])).toMatchObject({ status: 410 });
    expect(await pathRule.isDenied(c, ["my"])).toBeUndefined();
    expect(await pathRule.isDenied(c)).toBeUndefined();
  });

  it("list status hint, per-entry hint and negation of hashed entries", async () => {
    const a = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
    const b = "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4";
    const ha = await sha256Hex(`${a}/`);
    const hb = await sha256Hex(`${b}/`);
    const m = new DenylistMatcher(
      await snapshotOf(`hints:\n  gateway_status: 451\n---\n//${ha}\n//${hb}\n`, `//${hb} status=410\n`),
    );
    expect(await m.isDenied(cid(a))).toEqual({ status: 451, rule: `//${ha}`, list: "list-0" });
    // the later list's hinted entry overrides the earlier list's status
    expect(await m.isDenied(cid(b))).toEqual({ status: 410, rule: `//${hb}`, list: "list-1" });
    const allowed = new DenylistMatcher(await snapshotOf(`//${ha}\n`, `!//${ha}\n`));
    expect(await allowed.isDenied(cid(a))).toBeUndefined();
  });

  it("IPNS names: DNSLink domains and keys, clear-text and hashed", async () => {
    const key = "k51qzi5uqu5dhmzyv3zac033i7rl9hkgczxyl81lwoukda2htteop7d3x0y1mf";
    const keyAsPeer = "12D3KooWDkNqEJNmreF3NYYFK1ws7Ra2fuW6cHBTu567SPV3LdYA";
    const keyB32 = "bafzaajaiaejcaotjfs57kieazxny5japcmy5p2pgv2cic77tu6ogghttvurnrufx";
    const legacyDomain = await sha256Hex("bad-domain-name.tld/");
    expect(legacyDomain).toBe("c555c4de78827ba42527dd3dc5398db38d6c0a8c345a88e0158b2d100f317e50"); // spec example
    const modernDomain = await sha256Hex("/ipns/hashed.example");
    const m = new DenylistMatcher(
      await snapshotOf(
        [`/ipns/domain.example`, `/ipns/domain2.example/path`, `/ipns/${key}`, `//${legacyDomain}`, `//${modernDomain} status=451`].join("\n"),
      ),
    );
    expect(await m.isNameDenied("DOMAIN.example", ["x"])).toMatchObject({ status: 410, rule: "/ipns/domain.example" });
    expect(await m.isNameDenied("domain2.example", ["path"])).toMatchObject({ rule: "/ipns/domain2.example/path" });
    expect(await m.isNameDenied("domain2.example", ["other"])).toBeUndefined();
    for (const name of [key, keyAsPeer, keyB32]) expect(await m.isNameDenied(name)).toMatchObject({ rule: `/ipns/${key}` });
    expect(await m.isNameDenied("bad-domain-name.tld")).toMatchObject({ status: 410, rule: `//${legacyDomain}` });
    expect(await m.isNameDenied("hashed.example", ["a"])).toMatchObject({ status: 451, rule: `//${modernDomain}` });
    expect(await m.isNameDenied("fine.example")).toBeUndefined();
  });
});
