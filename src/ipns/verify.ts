import { equals } from "multiformats/bytes";
import type { IpnsName } from "./name";
import { decodePublicKey, verifySignature, type Libp2pPublicKey } from "./public-key";
import { decodeIpnsData, decodeIpnsEntry, IpnsRecordError, type IpnsData, type IpnsEntry } from "./record";
import { parseRfc3339 } from "./rfc3339";

export interface VerifiedIpnsRecord {
  /** The content path the name points at: `/ipfs/{cid}[/path]` or `/ipns/{name}[/path]`. */
  readonly value: string;
  readonly sequence: bigint;
  /** Cache hint from data[TTL] in whole seconds; 60 when absent or 0 (routing v1 spec, `max-age` default). */
  readonly ttlSeconds: number;
  /** End of validity (ValidityType 0 = EOL). */
  readonly validity: Date;
}

/** `ipns-signature:`, the prefix signed together with `IpnsEntry.data` (IPNS spec "Record Creation" step 5). */
const SIGNATURE_V2_PREFIX = new TextEncoder().encode("ipns-signature:");
const DEFAULT_TTL_SECONDS = 60;
const IDENTITY = 0x00;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Verifies a serialized IPNS record for `name`, following IPNS spec "Record
 * Verification" step by step and failing on the first error: size limit,
 * V2 signature and data present, public key (from `pubKey` or inlined in the
 * name) bound to the name, signatureV2 over `"ipns-signature:" + data`, legacy
 * V1 fields equal to the signed ones, EOL validity in the future.
 * `signatureV1` is never checked (a broken V1 signature with a good V2 passes).
 *
 * @throws IpnsRecordError (502) naming the first failed check
 */
export async function verifyIpnsRecord(
  bytes: Uint8Array,
  name: IpnsName,
  now: number = Date.now(),
): Promise<VerifiedIpnsRecord> {
  // Step 1 (size) happens inside decodeIpnsEntry, before parsing.
  const entry = decodeIpnsEntry(bytes);

  // Step 2: V1-only records are refused since ipfs/specs#319.
  if (entry.signatureV2 === undefined || entry.signatureV2.length === 0 || entry.data === undefined || entry.data.length === 0) {
    throw new IpnsRecordError("record has no signatureV2 and data (V1-only records are not accepted)");
  }

  // Step 3: the public key, and its binding to the name.
  const key = await publicKeyFor(entry, name);

  // Step 4: the signed document.
  const data = decodeIpnsData(entry.data);

  // Steps 5-6: signatureV2 over "ipns-signature:" || data.
  const signed = new Uint8Array(SIGNATURE_V2_PREFIX.length + entry.data.length);
  signed.set(SIGNATURE_V2_PREFIX);
  signed.set(entry.data, SIGNATURE_V2_PREFIX.length);
  let ok: boolean;
  try {
    ok = await verifySignature(key, entry.signatureV2, signed);
  } catch (err) {
    throw new IpnsRecordError((err as Error).message);
  }
  if (!ok) throw new IpnsRecordError("signatureV2 does not verify");

  // Step 7: legacy V1 fields must equal the signed ones when present.
  if (entry.signatureV1 !== undefined || entry.value !== undefined) checkV1Fields(entry, data);

  // Step 8: validity.
  if (data.validityType !== 0n) throw new IpnsRecordError(`unsupported ValidityType ${data.validityType}`);
  const validityText = decodeText(data.validity, "Validity");
  const validityMs = parseRfc3339(validityText);
  if (validityMs === null) throw new IpnsRecordError("Validity is not an RFC 3339 date-time");
  if (validityMs <= now) throw new IpnsRecordError(`record expired at ${new Date(validityMs).toISOString()}`);

  const value = decodeText(data.value, "Value");
  if (!/^\/ip[fn]s\/[^/]+/.test(value)) throw new IpnsRecordError("Value is not an /ipfs/ or /ipns/ path");

  const ttlSeconds = data.ttl === undefined ? 0 : Number(data.ttl / 1_000_000_000n);
  return {
    value,
    sequence: data.sequence,
    ttlSeconds: ttlSeconds > 0 ? ttlSeconds : DEFAULT_TTL_SECONDS,
    validity: new Date(validityMs),
  };
}

async function publicKeyFor(entry: IpnsEntry, name: IpnsName): Promise<Libp2pPublicKey> {
  const { code, digest } = name.multihash;
  const keyBytes = entry.pubKey ?? (code === IDENTITY ? digest : undefined);
  if (keyBytes === undefined) {
    throw new IpnsRecordError("public key is neither in the record nor inlined in the name");
  }
  // The name is the multihash of the serialized key: identity (inlined) or sha2-256.
  const matches =
    code === IDENTITY
      ? equals(keyBytes, digest)
      : equals(new Uint8Array(await crypto.subtle.digest("SHA-256", keyBytes)), digest);
  if (!matches) throw new IpnsRecordError(`public key does not match the name ${name.name}`);
  try {
    return decodePublicKey(keyBytes);
  } catch (err) {
    throw new IpnsRecordError(`public key is malformed (${(err as Error).message})`);
  }
}

function checkV1Fields(entry: IpnsEntry, data: IpnsData): void {
  // Absent protobuf fields read as their defaults, as boxo does with GetX().
  const empty = new Uint8Array();
  const mismatch = (field: string) => new IpnsRecordError(`protobuf ${field} differs from the signed data`);
  if (!equals(entry.value ?? empty, data.value)) throw mismatch("value");
  if (!equals(entry.validity ?? empty, data.validity)) throw mismatch("validity");
  if ((entry.validityType ?? 0n) !== data.validityType) throw mismatch("validityType");
  if ((entry.sequence ?? 0n) !== data.sequence) throw mismatch("sequence");
  if ((entry.ttl ?? 0n) !== (data.ttl ?? 0n)) throw mismatch("ttl");
}

function decodeText(bytes: Uint8Array, field: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new IpnsRecordError(`${field} is not UTF-8`);
  }
}
