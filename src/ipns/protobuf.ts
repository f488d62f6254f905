/**
 * A minimal protobuf reader: enough for the two messages IPNS needs
 * (`IpnsEntry` and libp2p's `PublicKey`), without a code generator or a new
 * dependency. Only the wire types of proto2/proto3 that those messages use
 * are kept (varint, length-delimited); fixed32/fixed64 fields are skipped as
 * unknown fields, and groups (wire types 3/4, long deprecated) are refused.
 *
 * https://protobuf.dev/programming-guides/encoding/
 */

export type ProtoField =
  | { readonly no: number; readonly wire: "varint"; readonly value: bigint }
  | { readonly no: number; readonly wire: "bytes"; readonly value: Uint8Array };

/** Thrown for any malformed input; callers turn it into their own error. */
export class ProtobufError extends Error {
  override readonly name = "ProtobufError";
}

const U64_MAX = (1n << 64n) - 1n;

/** Reads an unsigned LEB128 varint of at most 10 bytes (uint64). */
function readVarint(bytes: Uint8Array, start: number): [value: bigint, next: number] {
  let value = 0n;
  let shift = 0n;
  for (let i = start; i < bytes.length && i < start + 10; i++) {
    const byte = bytes[i]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      if (value > U64_MAX) throw new ProtobufError("varint overflows 64 bits");
      return [value, i + 1];
    }
    shift += 7n;
  }
  throw new ProtobufError("truncated or over-long varint");
}

/**
 * Splits a message into its fields, in wire order. Repeated occurrences of a
 * field are all returned; `lastOf` applies the protobuf "last one wins" rule
 * for singular fields.
 */
export function readFields(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const [key, afterKey] = readVarint(bytes, pos);
    const no = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (no < 1 || no > 536_870_911) throw new ProtobufError(`invalid field number ${no}`);
    pos = afterKey;
    switch (wireType) {
      case 0: {
        const [value, next] = readVarint(bytes, pos);
        fields.push({ no, wire: "varint", value });
        pos = next;
        break;
      }
      case 2: {
        const [length, next] = readVarint(bytes, pos);
        const end = next + Number(length);
        if (length > BigInt(bytes.length) || end > bytes.length) {
          throw new ProtobufError(`field ${no} runs past the end of the message`);
        }
        fields.push({ no, wire: "bytes", value: bytes.subarray(next, end) });
        pos = end;
        break;
      }
      case 1: // fixed64: unknown to our messages, skipped
        pos += 8;
        break;
      case 5: // fixed32
        pos += 4;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType} for field ${no}`);
    }
    if (pos > bytes.length) throw new ProtobufError("message is truncated");
  }
  return fields;
}

/** The last occurrence of field `no`, checked to have the expected wire type. */
export function lastOf(fields: readonly ProtoField[], no: number, wire: "varint"): bigint | undefined;
export function lastOf(fields: readonly ProtoField[], no: number, wire: "bytes"): Uint8Array | undefined;
export function lastOf(
  fields: readonly ProtoField[],
  no: number,
  wire: ProtoField["wire"],
): bigint | Uint8Array | undefined {
  let found: ProtoField | undefined;
  for (const field of fields) if (field.no === no) found = field;
  if (found === undefined) return undefined;
  if (found.wire !== wire) throw new ProtobufError(`field ${no} has the wrong wire type`);
  return found.value;
}
