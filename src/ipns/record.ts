import { decode as decodeDagCbor } from "@ipld/dag-cbor";
import { HttpError } from "../http/errors";
import { lastOf, readFields, type ProtoField } from "./protobuf";

/**
 * The IPNS record wire format (IPNS spec "Record Serialization Format"):
 * `IpnsEntry` protobuf, whose `data` field holds the signed DAG-CBOR document.
 *
 * ```protobuf
 * message IpnsEntry {
 *   optional bytes value = 1;          // legacy V1 copy of data[Value]
 *   optional bytes signatureV1 = 2;    // legacy, never verified
 *   optional ValidityType validityType = 3;
 *   optional bytes validity = 4;
 *   optional uint64 sequence = 5;
 *   optional uint64 ttl = 6;
 *   optional bytes pubKey = 7;
 *   optional bytes signatureV2 = 8;
 *   optional bytes data = 9;           // DAG-CBOR {Value, Validity, ValidityType, Sequence, TTL}
 * }
 * ```
 */
export const IPNS_RECORD_CONTENT_TYPE = "application/vnd.ipfs.ipns-record";

/** IPNS spec "Record Size Limit": 10 KiB, checked before parsing. */
export const MAX_RECORD_BYTES = 10 * 1024;

/** A record that failed decoding or verification: the gateway answers 502 (conformance N02: 5xx). */
export class IpnsRecordError extends HttpError {
  readonly reason: string;
  constructor(reason: string) {
    super("bad_gateway", `IPNS record rejected: ${reason}`);
    this.reason = reason;
  }
}

export interface IpnsEntry {
  readonly value?: Uint8Array;
  readonly signatureV1?: Uint8Array;
  readonly validityType?: bigint;
  readonly validity?: Uint8Array;
  readonly sequence?: bigint;
  readonly ttl?: bigint;
  readonly pubKey?: Uint8Array;
  readonly signatureV2?: Uint8Array;
  readonly data?: Uint8Array;
}

/** The signed fields of `IpnsEntry.data`. */
export interface IpnsData {
  readonly value: Uint8Array;
  readonly validity: Uint8Array;
  readonly validityType: bigint;
  readonly sequence: bigint;
  /** Nanoseconds; absent in records that leave it out. */
  readonly ttl: bigint | undefined;
}

/** Decodes the `IpnsEntry` protobuf; throws IpnsRecordError. */
export function decodeIpnsEntry(bytes: Uint8Array): IpnsEntry {
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new IpnsRecordError(`record is ${bytes.length} bytes, over the ${MAX_RECORD_BYTES}-byte limit`);
  }
  let fields: ProtoField[];
  try {
    fields = readFields(bytes);
    return {
      value: lastOf(fields, 1, "bytes"),
      signatureV1: lastOf(fields, 2, "bytes"),
      validityType: lastOf(fields, 3, "varint"),
      validity: lastOf(fields, 4, "bytes"),
      sequence: lastOf(fields, 5, "varint"),
      ttl: lastOf(fields, 6, "varint"),
      pubKey: lastOf(fields, 7, "bytes"),
      signatureV2: lastOf(fields, 8, "bytes"),
      data: lastOf(fields, 9, "bytes"),
    };
  } catch (err) {
    throw new IpnsRecordError(`not an IpnsEntry protobuf (${(err as Error).message})`);
  }
}

/** Decodes and type-checks the DAG-CBOR document of `IpnsEntry.data`; throws IpnsRecordError. */
export function decodeIpnsData(cbor: Uint8Array): IpnsData {
  let doc: unknown;
  try {
    doc = decodeDagCbor(cbor);
  } catch (err) {
    throw new IpnsRecordError(`data is not DAG-CBOR (${(err as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc) || doc instanceof Uint8Array) {
    throw new IpnsRecordError("data is not a DAG-CBOR map");
  }
  const map = doc as Record<string, unknown>;
  const value = bytesField(map, "Value");
  const validity = bytesField(map, "Validity");
  const validityType = uintField(map, "ValidityType");
  const sequence = uintField(map, "Sequence");
  const ttl = map.TTL === undefined ? undefined : uintField(map, "TTL");
  if (value === undefined || validity === undefined || validityType === undefined || sequence === undefined) {
    throw new IpnsRecordError("data lacks one of Value, Validity, ValidityType, Sequence");
  }
  return { value, validity, validityType, sequence, ttl };
}

function bytesField(map: Record<string, unknown>, key: string): Uint8Array | undefined {
  const v = map[key];
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array)) throw new IpnsRecordError(`data[${key}] is not bytes`);
  return v;
}

function uintField(map: Record<string, unknown>, key: string): bigint | undefined {
  const v = map[key];
  if (v === undefined) return undefined;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "bigint" && v >= 0n && v < 1n << 64n) return v;
  throw new IpnsRecordError(`data[${key}] is not an unsigned 64-bit integer`);
}
