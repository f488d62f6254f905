import { lastOf, readFields } from "./protobuf";

/**
 * libp2p public keys as IPNS uses them (IPNS spec "Key Serialization Format",
 * libp2p peer-ids spec "Keys"): a protobuf `PublicKey { KeyType Type = 1;
 * bytes Data = 2; }`, verified here with WebCrypto (workerd implements
 * Ed25519, RSASSA-PKCS1-v1_5 and ECDSA).
 *
 * Secp256k1 is not supported: WebCrypto has no such curve, and the IPNS spec
 * makes it optional ("MAY ... for private use").
 */
export type KeyType = "RSA" | "Ed25519" | "Secp256k1" | "ECDSA";

export interface Libp2pPublicKey {
  readonly type: KeyType;
  /** Ed25519: 32 raw bytes; RSA and ECDSA: DER SubjectPublicKeyInfo; Secp256k1: 33-byte compressed point. */
  readonly data: Uint8Array;
}

const KEY_TYPES: Record<number, KeyType> = { 0: "RSA", 1: "Ed25519", 2: "Secp256k1", 3: "ECDSA" };

// go-libp2p's bounds (core/crypto/rsa_common.go): smaller keys are forgeable,
// larger ones are a verification-cost attack.
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

/** Decodes a serialized libp2p `PublicKey`; throws an Error naming the problem. */
export function decodePublicKey(bytes: Uint8Array): Libp2pPublicKey {
  const fields = readFields(bytes);
  const typeNo = lastOf(fields, 1, "varint");
  const data = lastOf(fields, 2, "bytes");
  if (typeNo === undefined || data === undefined) throw new Error("public key protobuf lacks Type or Data");
  const type = KEY_TYPES[Number(typeNo)];
  if (type === undefined || typeNo > 3n) throw new Error(`unknown public key type ${typeNo}`);
  if (type === "Ed25519" && data.length !== 32) throw new Error(`Ed25519 public key must be 32 bytes, got ${data.length}`);
  return { type, data };
}

/**
 * Verifies `signature` over `message` with `key`, following the signature
 * rules of the libp2p peer-ids spec: Ed25519 (RFC 8032), RSA PKCS#1 v1.5 over
 * SHA-256, ECDSA over SHA-256 with an ASN.1 DER `(r, s)` signature.
 * Resolves false for a bad signature; throws for an unusable key.
 */
export async function verifySignature(
  key: Libp2pPublicKey,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  switch (key.type) {
    case "Ed25519": {
      const k = await crypto.subtle.importKey("raw", key.data, { name: "Ed25519" }, false, ["verify"]);
      if (signature.length !== 64) return false; // workerd throws on other lengths; it is just a bad signature
      return crypto.subtle.verify({ name: "Ed25519" }, k, signature, message);
    }
    case "RSA": {
      const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      const k = await importSpki(key.data, algorithm, "RSA");
      const bits = (k.algorithm as CryptoKeyRsaKeyAlgorithm).modulusLength;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
        throw new Error(`RSA key of ${bits} bits is outside ${MIN_RSA_BITS}..${MAX_RSA_BITS}`);
      }
      if (signature.length !== bits / 8) return false;
      return crypto.subtle.verify(algorithm, k, signature, message);
    }
    case "ECDSA": {
      const curve = ecdsaCurve(key.data);
      const k = await importSpki(key.data, { name: "ECDSA", namedCurve: curve.name }, "ECDSA");
      const raw = derSignatureToRaw(signature, curve.size);
      if (raw === null) return false;
      return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, k, raw, message);
    }
    case "Secp256k1":
      throw new Error("secp256k1 keys are not supported by this gateway");
  }
}

async function importSpki(
  der: Uint8Array,
  algorithm: SubtleCryptoImportKeyAlgorithm,
  label: string,
): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("spki", der, algorithm, false, ["verify"]);
  } catch {
    throw new Error(`${label} public key is not a valid SubjectPublicKeyInfo`);
  }
}

// Named-curve OIDs as they appear DER-encoded in a SubjectPublicKeyInfo (RFC 5480 §2.1.1.1).
const CURVES = [
  { name: "P-256", size: 32, oid: [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] },
  { name: "P-384", size: 48, oid: [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22] },
  { name: "P-521", size: 66, oid: [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23] },
] as const;

function ecdsaCurve(spki: Uint8Array): (typeof CURVES)[number] {
  const curve = CURVES.find((c) => indexOf(spki, c.oid) >= 0);
  if (curve === undefined) throw new Error("ECDSA public key uses an unsupported curve");
  return curve;
}

function indexOf(haystack: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * libp2p ECDSA signatures are DER `SEQUENCE { INTEGER r, INTEGER s }`;
 * WebCrypto wants `r || s`, each left-padded to the curve size. Returns null
 * when the DER is malformed (a bad signature, not a bad key).
 */
export function derSignatureToRaw(der: Uint8Array, size: number): Uint8Array | null {
  let pos = 0;
  const readLength = (): number | null => {
    const first = der[pos++];
    if (first === undefined) return null;
    if (first < 0x80) return first;
    if (first === 0x81) {
      const len = der[pos++];
      return len === undefined || len < 0x80 ? null : len;
    }
    return null;
  };
  if (der[pos++] !== 0x30) return null;
  const seqLength = readLength();
  if (seqLength === null || pos + seqLength !== der.length) return null;
  const out = new Uint8Array(size * 2);
  for (let i = 0; i < 2; i++) {
    if (der[pos++] !== 0x02) return null;
    const len = readLength();
    if (len === null || len === 0 || pos + len > der.length) return null;
    let int = der.subarray(pos, pos + len);
    pos += len;
    while (int.length > 1 && int[0] === 0) int = int.subarray(1);
    if (int.length > size) return null;
    out.set(int, i * size + (size - int.length));
  }
  return pos === der.length ? out : null;
}
