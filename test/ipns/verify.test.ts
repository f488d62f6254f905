import { describe, expect, inject, it } from "vitest";
import { parseIpnsName } from "../../src/ipns/name";
import { IpnsRecordError } from "../../src/ipns/record";
import { verifyIpnsRecord } from "../../src/ipns/verify";
import {
  concat,
  ecdsaP256Key,
  ed25519Key,
  getRecord,
  makeRecord,
  pbBytes,
  pbVarint,
  rsaKey,
  type TestKey,
} from "./record-builder";

const routing = inject("routingBase");

// IPNS spec "Test Vectors" (conformance/fixtures/ipns_records).
const V1V2 = "k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w";
const V2_ONLY = "k51qzi5uqu5dit2ku9mutlfgwyz8u730on38kd10m97m36bjt66my99hb6103f";
const BROKEN_V1_SIG = "k51qzi5uqu5dilgf7gorsh9vcqqq4myo6jd4zmqkuy9pxyxi5fua3uf7axph4y";
const V1_ONLY = "k51qzi5uqu5dm4tm0wt8srkg9h9suud4wuiwjimndrkydqm81cqtlb5ak6p7ku";
const VALUE_MISMATCH = "k51qzi5uqu5dlmit2tuwdvnx4sbnyqgmvbxftl0eo3f33wwtb9gr7yozae9kpw";
const BROKEN_V2_SIG = "k51qzi5uqu5diamp7qnnvs1p1gzmku3eijkeijs3418j23j077zrkok63xdm8c";
const RSA = "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3";
const ED25519 = "12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d";
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
const GC_R1 = "bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui";

async function verifyFixture(name: string) {
  return verifyIpnsRecord(await getRecord(routing, name), parseIpnsName(name));
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(IpnsRecordError);
    expect((err as IpnsRecordError).status).toBe(502);
    return (err as IpnsRecordError).message;
  }
  throw new Error("record was accepted");
}

/** Index of the first occurrence of `needle` in `haystack`. */
function offsetOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("needle not found");
}

const verifyFor = (key: TestKey, record: Uint8Array, now?: number) =>
  verifyIpnsRecord(record, parseIpnsName(key.name), now);

describe("verifyIpnsRecord: IPNS spec test vectors", () => {
  it("V1+V2, both signatures valid: accepted", async () => {
    expect(await verifyFixture(V1V2)).toEqual({
      value: "/ipfs/bafkqaddwgevxmmraojswg33smq",
      sequence: 0n,
      ttlSeconds: 1800,
      validity: new Date("2123-08-14T12:17:03.694Z"),
    });
  });

  it("V2-only: accepted", async () => {
    const record = await verifyFixture(V2_ONLY);
    expect(record.value).toBe("/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi");
    expect(record.ttlSeconds).toBe(1800);
  });

  it("broken V1 signature, valid V2: accepted (V1 is never verified)", async () => {
    const record = await verifyFixture(BROKEN_V1_SIG);
    expect(record.value).toBe("/ipfs/bafkqahtwgevxmmrao5uxi2bamjzg623fnyqhg2lhnzqxi5lsmuqhmmi");
  });

  it("V1-only: rejected", async () => {
    expect(await rejection(verifyFixture(V1_ONLY))).toBe(
      "IPNS record rejected: record has no signatureV2 and data (V1-only records are not accepted)",
    );
  });

  it("V1 value differs from the signed V2 value: rejected", async () => {
    expect(await rejection(verifyFixture(VALUE_MISMATCH))).toBe(
      "IPNS record rejected: protobuf value differs from the signed data",
    );
  });

  it("broken V2 signature: rejected", async () => {
    expect(await rejection(verifyFixture(BROKEN_V2_SIG))).toBe("IPNS record rejected: signatureV2 does not verify");
  });
});

describe("verifyIpnsRecord: other conformance records", () => {
  it("RSA key carried in pubKey, name = sha2-256 of it", async () => {
    expect(await verifyFixture(RSA)).toEqual({
      value: `/ipfs/${GC_INDEX}`,
      sequence: 0n,
      ttlSeconds: 3_155_760_000,
      validity: new Date("2123-04-12T13:43:57.238Z"),
    });
  });

  it("Ed25519 key inlined in a 12D3KooW… name", async () => {
    const record = await verifyFixture(ED25519);
    expect(record.value).toBe(`/ipfs/${GC_INDEX}`);
    expect(record.validity).toEqual(new Date("2123-04-12T13:44:59.801Z"));
  });

  it("values with a sub-path, dag-json and dag-cbor targets", async () => {
    expect((await verifyFixture("k51qzi5uqu5djokp3m1keo36hoxtd6u3a1d2rg1camf6al7p3huy63dojlm57c")).value).toBe(
      `/ipfs/${GC_R1}/root2`,
    );
    expect((await verifyFixture("k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe")).value).toBe(`/ipfs/${GC_R1}`);
    expect((await verifyFixture("k51qzi5uqu5dhjghbwdvbo6mi40htrq6e2z4pwgp15pgv3ho1azvidttzh8yy2")).value).toBe(
      "/ipfs/baguqeeram5ujjqrwheyaty3w5gdsmoz6vittchvhk723jjqxk7hakxkd47xq",
    );
    expect((await verifyFixture("k51qzi5uqu5dghjous0agrwavl8vzl64xckoqzwqeqwudfr74kfd11zcyk3b7l")).value).toBe(
      "/ipfs/bafyreibs4utpgbn7uqegmd2goqz4bkyflre2ek2iwv743fhvylwi4zeeim",
    );
  });

  it("a record is bound to its name: the RSA record is refused for the Ed25519 name and vice versa", async () => {
    const rsaRecord = await getRecord(routing, RSA);
    const edRecord = await getRecord(routing, ED25519);
    expect(await rejection(verifyIpnsRecord(rsaRecord, parseIpnsName(ED25519)))).toBe(
      "IPNS record rejected: public key does not match the name k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam",
    );
    expect(await rejection(verifyIpnsRecord(edRecord, parseIpnsName(RSA)))).toBe(
      "IPNS record rejected: public key is neither in the record nor inlined in the name",
    );
  });

  it("the RSA record without its pubKey field cannot be verified", async () => {
    const rsaRecord = await getRecord(routing, RSA);
    // Re-encode every field but 7 (pubKey): fields are length-delimited or varints in this record.
    const { readFields } = await import("../../src/ipns/protobuf");
    const stripped = concat(
      ...readFields(rsaRecord)
        .filter((f) => f.no !== 7)
        .map((f) => (f.wire === "bytes" ? pbBytes(f.no, f.value) : pbVarint(f.no, f.value))),
    );
    expect(await rejection(verifyIpnsRecord(stripped, parseIpnsName(RSA)))).toBe(
      "IPNS record rejected: public key is neither in the record nor inlined in the name",
    );
  });
});

describe("verifyIpnsRecord: generated and forged records", () => {
  it("accepts a fresh Ed25519 V2-only record and reports its fields", async () => {
    const key = await ed25519Key();
    const validity = new Date(Date.now() + 60_000);
    const record = await makeRecord(key, { value: `/ipfs/${GC_INDEX}/a/b`, sequence: 7n, ttl: 5_000_000_000n, validity });
    expect(await verifyFor(key, record)).toEqual({ value: `/ipfs/${GC_INDEX}/a/b`, sequence: 7n, ttlSeconds: 5, validity });
  });

  it("accepts an /ipns/ value and a V1+V2 record with a pubKey equal to the inlined key", async () => {
    const key = await ed25519Key();
    const record = await makeRecord(key, { value: "/ipns/dnslink-test.example.org", v1: true, embedPublicKey: true });
    expect((await verifyFor(key, record)).value).toBe("/ipns/dnslink-test.example.org");
  });

  it("defaults the TTL to 60 s when data[TTL] is 0", async () => {
    const key = await ed25519Key();
    expect((await verifyFor(key, await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, ttl: 0n }))).ttlSeconds).toBe(60);
  });

  it("rejects a record with one signature byte flipped", async () => {
    const key = await ed25519Key();
    const record = await makeRecord(key, { value: `/ipfs/${GC_INDEX}` });
    // V2-only layout: [0x42 0x40 <64-byte signatureV2>] [0x4a len data]
    expect([...record.subarray(0, 2)]).toEqual([0x42, 0x40]);
    const forged = record.slice();
    forged[10]! ^= 0x01;
    expect(await rejection(verifyFor(key, forged))).toBe("IPNS record rejected: signatureV2 does not verify");
  });

  it("rejects a record with one byte of the signed data changed", async () => {
    const key = await ed25519Key();
    const record = await makeRecord(key, { value: `/ipfs/${GC_INDEX}` });
    const forged = record.slice();
    const at = offsetOf(record, new TextEncoder().encode(GC_INDEX)) + 10; // a character of data[Value]
    forged[at] = forged[at] === 0x61 ? 0x62 : 0x61;
    expect(await rejection(verifyFor(key, forged))).toBe("IPNS record rejected: signatureV2 does not verify");
  });

  it("rejects a record of name A served for name B", async () => {
    const a = await ed25519Key();
    const b = await ed25519Key();
    const plain = await makeRecord(a, { value: `/ipfs/${GC_INDEX}` });
    // Without pubKey, B's inlined key is used: A's signature does not verify under it.
    expect(await rejection(verifyFor(b, plain))).toBe("IPNS record rejected: signatureV2 does not verify");
    // With A's pubKey embedded, the key is caught not being B's.
    const embedded = await makeRecord(a, { value: `/ipfs/${GC_INDEX}`, embedPublicKey: true });
    expect(await rejection(verifyFor(b, embedded))).toBe(`IPNS record rejected: public key does not match the name ${b.name}`);
  });

  it("rejects an expired record (EOL in the past) and accepts it just before", async () => {
    const key = await ed25519Key();
    const record = await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, validity: "2020-01-01T00:00:00.123456789Z" });
    expect(await rejection(verifyFor(key, record))).toBe("IPNS record rejected: record expired at 2020-01-01T00:00:00.123Z");
    const before = Date.UTC(2020, 0, 1, 0, 0, 0, 122);
    expect((await verifyFor(key, record, before)).validity).toEqual(new Date("2020-01-01T00:00:00.123Z"));
  });

  it("rejects a record over 10 KiB and accepts one of exactly 10 KiB", async () => {
    const key = await ed25519Key();
    const sized = async (size: number) => {
      let pad = size - 200;
      for (;;) {
        const record = await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, extra: { _pad: "x".repeat(pad) } });
        if (record.length === size) return record;
        pad += size - record.length;
      }
    };
    const limit = await sized(10 * 1024);
    expect((await verifyFor(key, limit)).value).toBe(`/ipfs/${GC_INDEX}`);
    const over = await sized(10 * 1024 + 1);
    expect(await rejection(verifyFor(key, over))).toBe("IPNS record rejected: record is 10241 bytes, over the 10240-byte limit");
  });

  it("rejects V1 protobuf fields that differ from the signed data, field by field", async () => {
    const key = await ed25519Key();
    const value = `/ipfs/${GC_INDEX}`;
    const cases = [
      [{ value: "/ipfs/bafkqaddwgevxmmraojswg33smq" }, "value"],
      [{ sequence: 9n }, "sequence"],
      [{ ttl: 1n }, "ttl"],
      [{ validity: "2999-01-01T00:00:00Z" }, "validity"],
      [{ validityType: 1 }, "validityType"],
    ] as const;
    for (const [pbOverrides, field] of cases) {
      const record = await makeRecord(key, { value, v1: true, pbOverrides });
      expect(await rejection(verifyFor(key, record))).toBe(`IPNS record rejected: protobuf ${field} differs from the signed data`);
    }
  });

  it("rejects unsupported validity types, bad dates and values that are not paths", async () => {
    const key = await ed25519Key();
    const value = `/ipfs/${GC_INDEX}`;
    expect(await rejection(verifyFor(key, await makeRecord(key, { value, validityType: 1 })))).toBe(
      "IPNS record rejected: unsupported ValidityType 1",
    );
    expect(await rejection(verifyFor(key, await makeRecord(key, { value, validity: "next tuesday" })))).toBe(
      "IPNS record rejected: Validity is not an RFC 3339 date-time",
    );
    expect(await rejection(verifyFor(key, await makeRecord(key, { value: GC_INDEX })))).toBe(
      "IPNS record rejected: Value is not an /ipfs/ or /ipns/ path",
    );
  });

  it("rejects bytes that are not a record", async () => {
    const key = await ed25519Key();
    expect(await rejection(verifyFor(key, new TextEncoder().encode("<html>hi</html>")))).toMatch(
      /^IPNS record rejected: not an IpnsEntry protobuf \(/,
    );
    expect(await rejection(verifyFor(key, new Uint8Array()))).toBe(
      "IPNS record rejected: record has no signatureV2 and data (V1-only records are not accepted)",
    );
    // signatureV2 present, data not DAG-CBOR.
    const junk = concat(pbBytes(8, new Uint8Array(64)), pbBytes(9, Uint8Array.of(0xff, 0xff)));
    expect(await rejection(verifyFor(key, junk))).toMatch(/^IPNS record rejected: data is not DAG-CBOR \(/);
  });

  it("verifies ECDSA P-256 records (SPKI key, DER signature) and rejects a flipped one", async () => {
    const key = await ecdsaP256Key();
    expect(key.inlined).toBe(false);
    const record = await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, sequence: 3n });
    expect((await verifyFor(key, record)).sequence).toBe(3n);
    // Flip the last byte of the DER signature (inside `s`).
    const { readFields } = await import("../../src/ipns/protobuf");
    const signature = readFields(record).find((f) => f.no === 8)!.value as Uint8Array;
    const forged = record.slice();
    forged[signature.byteOffset - record.byteOffset + signature.length - 1]! ^= 0x01;
    expect(await rejection(verifyFor(key, forged))).toBe("IPNS record rejected: signatureV2 does not verify");
  });

  it("verifies a freshly made RSA-2048 record and refuses RSA keys under 2048 bits", async () => {
    const good = await rsaKey(2048);
    expect((await verifyFor(good, await makeRecord(good, { value: `/ipfs/${GC_INDEX}` }))).value).toBe(`/ipfs/${GC_INDEX}`);
    const weak = await rsaKey(1024);
    expect(await rejection(verifyFor(weak, await makeRecord(weak, { value: `/ipfs/${GC_INDEX}` })))).toBe(
      "IPNS record rejected: RSA key of 1024 bits is outside 2048..8192",
    );
  });

  it("says secp256k1 keys are not supported", async () => {
    // A name inlining a secp256k1 PublicKey (type 2, 33-byte compressed point).
    const point = new Uint8Array(33).fill(7);
    point[0] = 0x02;
    const publicKey = concat(pbVarint(1, 2), pbBytes(2, point));
    const { base36 } = await import("multiformats/bases/base36");
    const { CID } = await import("multiformats/cid");
    const Digest = await import("multiformats/hashes/digest");
    const key: TestKey = {
      name: CID.createV1(0x72, Digest.create(0, publicKey)).toString(base36),
      publicKey,
      inlined: true,
      sign: async () => new Uint8Array(64),
    };
    expect(await rejection(verifyFor(key, await makeRecord(key, { value: `/ipfs/${GC_INDEX}` })))).toBe(
      "IPNS record rejected: secp256k1 keys are not supported by this gateway",
    );
  });
});
