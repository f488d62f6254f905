/**
 * Content-root identifiers as they appear in hosts and paths: CIDs in any
 * common multibase, IPNS keys (peer IDs / libp2p-key CIDs) and DNSLink names
 * inlined into one DNS label (https://specs.ipfs.tech/http-gateways/subdomain-gateway/, "Host").
 */
import { base16, base16upper } from "multiformats/bases/base16";
import { base32, base32upper } from "multiformats/bases/base32";
import { base36, base36upper } from "multiformats/bases/base36";
import { base58btc } from "multiformats/bases/base58";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";

/** Multicodec of a libp2p public key CID (IPNS names). */
export const LIBP2P_KEY = 0x72;

/** "DNS label limits": at most 63 characters per label (RFC 2181 §11). */
export const MAX_DNS_LABEL = 63;

const DECODERS = base32.decoder.or(base32upper.decoder).or(base36.decoder).or(base36upper.decoder)
  .or(base58btc.decoder).or(base16.decoder).or(base16upper.decoder);

/** A CID in base32, base36, base58btc or base16 (v0 or v1); undefined if it is not one. */
export function parseCid(text: string): CID | undefined {
  try {
    return text.startsWith("Qm") && text.length === 46 ? CID.parse(text) : CID.parse(text, DECODERS);
  } catch {
    return undefined;
  }
}

/**
 * An IPNS key name as a CIDv1 libp2p-key: a libp2p-key CID in any base, or a
 * legacy base58btc peer ID (`12D3KooW…`, `Qm…`). Undefined when `name` is not
 * a key (it may then be a DNSLink name).
 */
export function parseIpnsKey(name: string): CID | undefined {
  const cid = parseCid(name);
  if (cid) {
    if (cid.version === 0) return CID.createV1(LIBP2P_KEY, cid.multihash); // a base58 sha256 peer ID
    return cid.code === LIBP2P_KEY ? cid : undefined;
  }
  try {
    return CID.createV1(LIBP2P_KEY, Digest.decode(base58btc.baseDecode(name))); // `12D3KooW…` (identity multihash)
  } catch {
    return undefined;
  }
}

/** A DNS name a DNSLink record could live at: letters, digits, `-`, dots between labels. */
export function isDnsName(name: string): boolean {
  return (
    name.length <= 253 &&
    /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i.test(name)
  );
}

/**
 * "DNSLink label encoding": every `-` becomes `--`, then every `.` becomes `-`.
 *
 * @example encodeDnslinkLabel("en.wikipedia-on-ipfs.org") // "en-wikipedia--on--ipfs-org"
 */
export function encodeDnslinkLabel(name: string): string {
  return name.toLowerCase().replaceAll("-", "--").replaceAll(".", "-");
}

/**
 * "DNSLink label decoding": every standalone `-` becomes `.`, every remaining
 * `--` becomes `-`.
 *
 * @example decodeDnslinkLabel("en-wikipedia--on--ipfs-org") // "en.wikipedia-on-ipfs.org"
 */
export function decodeDnslinkLabel(label: string): string {
  return label
    .split("--")
    .map((part) => part.replaceAll("-", "."))
    .join("-");
}

/**
 * The DNS label of a content root: CIDv1 in base32 (CIDv0 converted), or in
 * base36 for libp2p keys when base32 does not fit ("Host"; "DNS label
 * limits"). Undefined when it cannot fit in 63 characters.
 */
export function cidLabel(cid: CID, preferBase36 = false): string | undefined {
  const v1 = cid.toV1();
  const candidates = preferBase36
    ? [v1.toString(base36)]
    : v1.code === LIBP2P_KEY
      ? [v1.toString(base32), v1.toString(base36)]
      : [v1.toString(base32)];
  return candidates.find((label) => label.length <= MAX_DNS_LABEL);
}
