/**
 * Builds IPNS records in tests, independently of the verifier: keys from
 * WebCrypto, the DAG-CBOR document from @ipld/dag-cbor, the protobuf written
 * by hand. Used for records the fixtures lack (fresh names, short TTLs,
 * higher sequences, ECDSA/RSA-1024/secp256k1 keys) and for forgeries.
 */
import { encode as encodeDagCbor } from "@ipld/dag-cbor";
import { base36 } from "multiformats/bases/base36";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";

export interface TestKey {
  /** Canonical IPNS name (base36 CIDv1 libp2p-key). */
  name: string;
  /** Serialized libp2p PublicKey protobuf. */
  publicKey: Uint8Array;
  /** Whether the key is inlined in the name (identity multihash). */
  inlined: boolean;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function varint(n: bigint | number): Uint8Array {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

export const pbBytes = (no: number, value: Uint8Array) => concat(varint((no << 3) | 2), varint(value.length), value);
export const pbVarint = (no: number, value: bigint | number) => concat(varint(no << 3), varint(value));

async function nameFor(publicKey: Uint8Array): Promise<{ name: string; inlined: boolean }> {
  const inlined = publicKey.length <= 42;
  const digest = inlined
    ? Digest.create(0x00, publicKey)
    : Digest.create(0x12, new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey)));
  return { name: CID.createV1(0x72, digest).toString(base36), inlined };
}

export async function ed25519Key(): Promise<TestKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const publicKey = concat(pbVarint(1, 1), pbBytes(2, raw));
  return {
    ...(await nameFor(publicKey)),
    publicKey,
    sign: async (m) => new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, m)),
  };
}

export async function rsaKey(bits: number): Promise<TestKey> {
  const algorithm = { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  const pair = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  const publicKey = concat(pbVarint(1, 0), pbBytes(2, spki));
  return {
    ...(await nameFor(publicKey)),
    publicKey,
    sign: async (m) => new Uint8Array(await crypto.subtle.sign(algorithm, pair.privateKey, m)),
  };
}

/** libp2p ECDSA: SPKI public key, SHA-256, DER `(r, s)` signatures. */
export async function ecdsaP256Key(): Promise<TestKey> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  const publicKey = concat(pbVarint(1, 3), pbBytes(2, spki));
  return {
    ...(await nameFor(publicKey)),
    publicKey,
    sign: async (m) => {
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, m));
      const int = (b: Uint8Array) => {
        let i = 0;
        while (i < b.length - 1 && b[i] === 0) i++;
        const trimmed = b.subarray(i);
        const body = trimmed[0]! & 0x80 ? concat(Uint8Array.of(0), trimmed) : trimmed;
        return concat(Uint8Array.of(0x02, body.length), body);
      };
      const seq = concat(int(raw.subarray(0, 32)), int(raw.subarray(32)));
      return concat(Uint8Array.of(0x30, seq.length), seq);
    },
  };
}

export interface RecordSpec {
  value: string;
  sequence?: bigint;
  /** RFC 3339 text or a Date (default: one hour from now). */
  validity?: string | Date;
  validityType?: number;
  /** Nanoseconds (default 1800 s). */
  ttl?: bigint;
  /** Also write the legacy V1 protobuf fields and a V1 signature. */
  v1?: boolean;
  /** Write `pubKey` even when the key is inlined in the name. */
  embedPublicKey?: boolean;
  /** Extra DAG-CBOR fields (e.g. padding). */
  extra?: Record<string, unknown>;
  /** Override protobuf V1 fields after signing (forgeries). */
  pbOverrides?: { value?: string; sequence?: bigint; ttl?: bigint; validity?: string; validityType?: number };
}

const text = (s: string) => new TextEncoder().encode(s);

export async function makeRecord(key: TestKey, spec: RecordSpec): Promise<Uint8Array> {
  const validity =
    spec.validity instanceof Date
      ? spec.validity.toISOString()
      : (spec.validity ?? new Date(Date.now() + 3_600_000).toISOString());
  const sequence = spec.sequence ?? 0n;
  const ttl = spec.ttl ?? 1_800_000_000_000n;
  const validityType = spec.validityType ?? 0;
  const data = encodeDagCbor({
    Value: text(spec.value),
    Validity: text(validity),
    ValidityType: validityType,
    Sequence: sequence,
    TTL: ttl,
    ...spec.extra,
  });
  const signatureV2 = await key.sign(concat(text("ipns-signature:"), data));
  const parts: Uint8Array[] = [];
  if (spec.v1) {
    const o = spec.pbOverrides ?? {};
    const v1Value = text(o.value ?? spec.value);
    const v1Validity = text(o.validity ?? validity);
    const v1Type = o.validityType ?? validityType;
    const signatureV1 = await key.sign(concat(v1Value, v1Validity, text(String(v1Type))));
    parts.push(
      pbBytes(1, v1Value),
      pbBytes(2, signatureV1),
      pbVarint(3, v1Type),
      pbBytes(4, v1Validity),
      pbVarint(5, o.sequence ?? sequence),
      pbVarint(6, o.ttl ?? ttl),
    );
  }
  if (!key.inlined || spec.embedPublicKey) parts.push(pbBytes(7, key.publicKey));
  parts.push(pbBytes(8, signatureV2), pbBytes(9, data));
  return concat(...parts);
}

/** Publishes `record` for `name` on the local routing server (optionally into a separate store). */
export async function putRecord(routingBase: string, name: string, record: Uint8Array, store?: string): Promise<void> {
  const prefix = store === undefined ? "" : `/store-${store}`;
  const response = await fetch(`${routingBase}${prefix}/routing/v1/ipns/${name}`, {
    method: "PUT",
    headers: { "Content-Type": "application/vnd.ipfs.ipns-record" },
    body: record,
  });
  if (!response.ok) throw new Error(`PUT record: HTTP ${response.status}`);
}

/** The record bytes the local routing server holds for `name` (fixtures included). */
export async function getRecord(routingBase: string, name: string): Promise<Uint8Array> {
  const response = await fetch(`${routingBase}/routing/v1/ipns/${name}`, {
    headers: { Accept: "application/vnd.ipfs.ipns-record" },
  });
  if (!response.ok) throw new Error(`GET record ${name}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** How many GETs the routing server saw for `name`. */
export async function routerHits(routingBase: string, name: string): Promise<number> {
  const entries = (await (await fetch(`${routingBase}/__log?name=${name}`)).json()) as { method: string }[];
  return entries.filter((e) => e.method === "GET").length;
}
