/**
 * Reads a tar archive in tests (ustar + pax 'x' headers), checking every
 * header checksum and that the archive ends with two zero blocks: tests
 * assert on exactly what the worker wrote.
 */
export interface TarEntryRead {
  name: string;
  /** "0" file, "5" directory, "2" symlink. */
  type: string;
  mode: number;
  size: number;
  linkname: string;
  content: Uint8Array;
}

const dec = new TextDecoder();

function field(h: Uint8Array, offset: number, length: number): string {
  const bytes = h.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return dec.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

function octal(h: Uint8Array, offset: number, length: number): number {
  const text = field(h, offset, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(dec.decode(data.subarray(at, space)));
    if (!Number.isInteger(length) || length <= 0) throw new Error(`bad pax record length at ${at}`);
    const record = dec.decode(data.subarray(space + 1, at + length - 1));
    if (data[at + length - 1] !== 0x0a) throw new Error("pax record does not end with a newline");
    const eq = record.indexOf("=");
    out.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return out;
}

export function readTar(archive: Uint8Array): TarEntryRead[] {
  if (archive.length % 512 !== 0) throw new Error(`archive length ${archive.length} is not a multiple of 512`);
  const entries: TarEntryRead[] = [];
  let pax = new Map<string, string>();
  let at = 0;
  for (;;) {
    const h = archive.subarray(at, at + 512);
    if (h.length < 512) throw new Error("archive ends without its two zero blocks");
    if (h.every((b) => b === 0)) {
      const next = archive.subarray(at + 512, at + 1024);
      if (next.length !== 512 || !next.every((b) => b === 0)) throw new Error("a zero block not followed by another");
      if (at + 1024 !== archive.length) throw new Error("bytes after the end of the archive");
      return entries;
    }
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== octal(h, 148, 8)) throw new Error(`bad checksum in header at ${at}`);
    if (field(h, 257, 6) !== "ustar") throw new Error(`not a ustar header at ${at}`);
    const type = field(h, 156, 1);
    let size = octal(h, 124, 12);
    const dataAt = at + 512;
    at = dataAt + Math.ceil(size / 512) * 512;
    if (type === "x") {
      pax = paxRecords(archive.subarray(dataAt, dataAt + size));
      continue;
    }
    if (pax.has("size")) size = Number(pax.get("size"));
    entries.push({
      name: pax.get("path") ?? field(h, 0, 100),
      type,
      mode: octal(h, 100, 8),
      size,
      linkname: pax.get("linkpath") ?? field(h, 157, 100),
      content: archive.slice(dataAt, dataAt + size),
    });
    pax = new Map();
  }
}
