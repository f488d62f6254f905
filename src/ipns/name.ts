import { bases } from "multiformats/basics";
import { base36 } from "multiformats/bases/base36";
import { base58btc } from "multiformats/bases/base58";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import type { MultihashDigest } from "multiformats/hashes/interface";
import { HttpError } from "../http/errors";
import { decodePublicKey } from "./public-key";

/** Multicodec `libp2p-key`: the codec of an IPNS name as CID (IPNS spec "String Representation"). */
export const LIBP2P_KEY_CODEC = 0x72;
const IDENTITY = 0x00;
const SHA2_256 = 0x12;
// libp2p peer-ids spec: keys of at most 42 bytes are inlined with the identity hash.
const MAX_INLINE_KEY_BYTES = 42;
const MAX_NAME_CHARS = 256;

export interface IpnsName {
  /** Canonical form: CIDv1, codec libp2p-key, base36 (`k51…` for Ed25519, `k2k4…` for RSA). */
  readonly name: string;
  /** Multihash of the serialized libp2p PublicKey: identity (key inlined) or sha2-256. */
  readonly multihash: MultihashDigest;
  /** True when the input already was the canonical string (else gateways redirect, conformance N03/N04). */
  readonly canonical: boolean;
}

/** Decodes any multibase the `multiformats` basics know (base32, base36, base58btc, base64...). */
function decodeMultibase(text: string): Uint8Array {
  const codec = Object.values(bases).find((base) => text.startsWith(base.prefix));
  if (codec === undefined) throw new Error("unknown multibase prefix");
  return codec.decoder.decode(text);
}

/**
 * Parses an IPNS name given as a CIDv1 with the libp2p-key codec in any
 * multibase, or as a legacy base58btc peer ID (`12D3KooW…` identity multihash,
 * `Qm…` sha2-256), per the libp2p peer-ids spec "String representation".
 *
 * @example parseIpnsName("12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK").name
 *   // "k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8"
 * @throws HttpError bad_request when the input is not an IPNS name
 */
export function parseIpnsName(input: string): IpnsName {
  const invalid = (reason: string) =>
    new HttpError("bad_request", `invalid IPNS name "${input.slice(0, 100)}": ${reason}`);
  if (input.length === 0 || input.length > MAX_NAME_CHARS) throw invalid("wrong length");

  let multihash: MultihashDigest;
  if (input.startsWith("1") || input.startsWith("Qm")) {
    // A bare base58btc multihash: the legacy peer ID text form.
    try {
      multihash = Digest.decode(base58btc.baseDecode(input));
    } catch {
      throw invalid("not a base58btc multihash");
    }
  } else {
    let cid: CID;
    try {
      cid = CID.decode(decodeMultibase(input));
    } catch {
      throw invalid("not a CID or peer ID");
    }
    if (cid.version !== 1) throw invalid("must be a CIDv1");
    if (cid.code !== LIBP2P_KEY_CODEC) {
      throw invalid(`CID codec must be libp2p-key (0x72), got 0x${cid.code.toString(16)}`);
    }
    multihash = cid.multihash;
  }

  if (multihash.code === IDENTITY) {
    if (multihash.digest.length > MAX_INLINE_KEY_BYTES) throw invalid("inlined public key is too long");
    try {
      decodePublicKey(multihash.digest);
    } catch (err) {
      throw invalid(`inlined public key is malformed (${(err as Error).message})`);
    }
  } else if (multihash.code === SHA2_256) {
    if (multihash.digest.length !== 32) throw invalid("sha2-256 digest must be 32 bytes");
  } else {
    throw invalid(`multihash must be identity or sha2-256, got 0x${multihash.code.toString(16)}`);
  }

  const name = CID.createV1(LIBP2P_KEY_CODEC, multihash).toString(base36);
  return { name, multihash, canonical: name === input };
}

/**
 * Tells a DNSLink name from an IPNS key name in `/ipns/{name}`: CIDs and peer
 * IDs never contain a dot, DNS names (other than single labels, which DNSLink
 * does not use) always do.
 */
export function isDnslinkName(name: string): boolean {
  return name.includes(".");
}
