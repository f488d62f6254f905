import { describe, expect, it } from "vitest";
import { HttpError } from "../../src/http/errors";
import { isDnslinkName, parseIpnsName } from "../../src/ipns/name";

const ED_K51 = "k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam";
const RSA_K2K = "k2k4r8m7xvggw5pxxk3abrkwyer625hg01hfyggrai7lk1m63fuihi7w";

function badRequest(input: string): string {
  try {
    parseIpnsName(input);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    return (err as HttpError).message;
  }
  throw new Error(`${input} was accepted`);
}

describe("parseIpnsName", () => {
  it("keeps a canonical base36 Ed25519 name, with the key inlined (identity multihash)", () => {
    const parsed = parseIpnsName(ED_K51);
    expect(parsed.name).toBe(ED_K51);
    expect(parsed.canonical).toBe(true);
    expect(parsed.multihash.code).toBe(0x00);
    expect(parsed.multihash.digest.length).toBe(36);
    expect([...parsed.multihash.digest.subarray(0, 4)]).toEqual([0x08, 0x01, 0x12, 0x20]);
  });

  it("keeps a canonical base36 RSA name (sha2-256 multihash)", () => {
    const parsed = parseIpnsName(RSA_K2K);
    expect(parsed.name).toBe(RSA_K2K);
    expect(parsed.canonical).toBe(true);
    expect(parsed.multihash.code).toBe(0x12);
    expect(parsed.multihash.digest.length).toBe(32);
  });

  it("N03: an Ed25519 base58 peer ID becomes the base36 CIDv1", () => {
    const parsed = parseIpnsName("12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK");
    expect(parsed.name).toBe("k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8");
    expect(parsed.canonical).toBe(false);
  });

  it("N04: an RSA Qm… peer ID becomes the base36 CIDv1", () => {
    const parsed = parseIpnsName("QmcJM7PRfkSbcM5cf1QugM5R37TLRKyJGgBEhXjLTB8uA2");
    expect(parsed.name).toBe("k2k4r8ol4m8kkcqz509c1rcjwunebj02gcnm5excpx842u736nja8ger");
    expect(parsed.canonical).toBe(false);
  });

  it("maps the fixture peer IDs to their k51/k2k4 names", () => {
    expect(parseIpnsName("12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d").name).toBe(ED_K51);
    expect(parseIpnsName("QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3").name).toBe(RSA_K2K);
  });

  it("accepts the same name in base32, base58btc (z) and base36upper", () => {
    for (const form of [
      "bafzaajaiaejcbhltvusd6q2t7tm3lmke4vu4lieeerm25eihikbh3ncjntnm6t6o",
      "z5AanNVJCxnRS1ZnkizZHBnWzSmbW5SERXUzSV8AkktYiH2JByZNKED",
      "K51QZI5UQU5DK3V4RMJBER23H16XNR23BSGGMQQIL9Z2GDUIIS5SE8DHT36DAM",
    ]) {
      const parsed = parseIpnsName(form);
      expect(parsed.name).toBe(ED_K51);
      expect(parsed.canonical).toBe(false);
    }
    expect(parseIpnsName("bafzbeidqpod5usytqwxqfg4h4dm6lwlccqswirauz7j2le3syzaiq45qpq").name).toBe(RSA_K2K);
  });

  it("rejects what is not an IPNS name with a 400 saying why", () => {
    expect(badRequest("")).toBe('invalid IPNS name "": wrong length');
    expect(badRequest("hello")).toBe('invalid IPNS name "hello": not a CID or peer ID');
    expect(badRequest("Qmfoo0")).toBe('invalid IPNS name "Qmfoo0": not a base58btc multihash');
    expect(badRequest("bafyaajaiaejcbhltvusd6q2t7tm3lmke4vu4lieeerm25eihikbh3ncjntnm6t6o")).toBe(
      'invalid IPNS name "bafyaajaiaejcbhltvusd6q2t7tm3lmke4vu4lieeerm25eihikbh3ncjntnm6t6o": CID codec must be libp2p-key (0x72), got 0x70',
    );
    // A raw CID of "hello\n" (sha2-256): right hash, wrong codec.
    expect(badRequest("bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am")).toContain("got 0x55");
    expect(badRequest("x".repeat(300))).toBe(`invalid IPNS name "${"x".repeat(100)}": wrong length`);
  });

  it("rejects other multihashes and malformed inlined keys", () => {
    // libp2p-key CIDv1 with an identity multihash whose digest is not a PublicKey protobuf ("hello").
    expect(badRequest("bafzaablimvwgy3y")).toContain("inlined public key is malformed");
    // libp2p-key CIDv1 with a sha2-512 multihash of 64 zero bytes.
    const sha512 = "bafzbgqaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    expect(badRequest(sha512)).toContain("multihash must be identity or sha2-256, got 0x13");
  });
});

describe("isDnslinkName", () => {
  it("tells DNS names (with a dot) from keys", () => {
    expect(isDnslinkName("en.wikipedia-on-ipfs.org")).toBe(true);
    expect(isDnslinkName("dnslink-test.example.org")).toBe(true);
    expect(isDnslinkName(ED_K51)).toBe(false);
    expect(isDnslinkName("12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d")).toBe(false);
  });
});
