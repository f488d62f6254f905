/** Unsigned LEB128 varint as used by multiformats and CARv1 section lengths. */
export function decodeVarint(bytes: Uint8Array, offset: number): [value: number, length: number] | undefined {
  let value = 0;
  let shift = 0;
  for (let i = offset; i < bytes.length && i - offset < 9; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, i - offset + 1];
    shift += 7;
  }
  return undefined;
}

export function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return Uint8Array.from(out);
}
