/**
 * ustar headers (POSIX.1-1988 / pax, IEEE Std 1003.1 "pax" Interchange
 * Format). Names and link targets that are not printable ASCII or do not
 * fit the 100-byte fields, and sizes beyond the 8 GiB octal field, go in a
 * pax extended header ('x') before the entry, as GNU tar, bsdtar and Go's
 * archive/tar read them.
 */
export const BLOCK = 512;

export type EntryType = "file" | "directory" | "symlink";

export interface TarEntry {
  name: string;
  type: EntryType;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
}

const enc = new TextEncoder();
const TYPEFLAG: Record<EntryType, string> = { file: "0", directory: "5", symlink: "2" };
const MAX_OCTAL_SIZE = 0o77777777777;

/** The header block(s) of one entry: a pax header first when needed. */
export function tarHeader(e: TarEntry): Uint8Array {
  const pax: [string, string][] = [];
  if (!fitsUstar(e.name)) pax.push(["path", e.name]);
  if (e.linkname !== undefined && !fitsUstar(e.linkname)) pax.push(["linkpath", e.linkname]);
  if (e.size > MAX_OCTAL_SIZE) pax.push(["size", String(e.size)]);
  const main = ustar({
    name: fitsUstar(e.name) ? e.name : asciiFallback(e.name),
    typeflag: TYPEFLAG[e.type],
    size: e.size > MAX_OCTAL_SIZE ? 0 : e.size,
    mode: e.mode,
    mtime: e.mtime,
    linkname: e.linkname === undefined ? "" : fitsUstar(e.linkname) ? e.linkname : asciiFallback(e.linkname),
  });
  if (pax.length === 0) return main;
  const records = enc.encode(pax.map(([k, v]) => paxRecord(k, v)).join(""));
  const paxHead = ustar({ name: asciiFallback(`PaxHeaders/${e.name}`), typeflag: "x", size: records.length, mode: 0o644, mtime: e.mtime, linkname: "" });
  const out = new Uint8Array(paxHead.length + padded(records.length) + main.length);
  out.set(paxHead, 0);
  out.set(records, paxHead.length);
  out.set(main, paxHead.length + padded(records.length));
  return out;
}

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function padding(size: number): Uint8Array {
  return new Uint8Array(padded(size) - size);
}

/** The end of an archive: two zero blocks. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function fitsUstar(s: string): boolean {
  return s.length <= 100 && /^[\x20-\x7e]*$/.test(s);
}

function asciiFallback(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "_").slice(0, 100);
}

/** "%d %s=%s\n", where %d counts the whole record in bytes, itself included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = enc.encode(body).length;
  let n = bodyLength + 1;
  while (String(n).length + bodyLength !== n) n = String(n).length + bodyLength;
  return `${n}${body}`;
}

interface UstarFields {
  name: string;
  typeflag: string;
  size: number;
  mode: number;
  mtime: number;
  linkname: string;
}

function ustar(f: UstarFields): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (offset: number, length: number, text: string) => h.set(enc.encode(text).subarray(0, length), offset);
  const octal = (offset: number, length: number, n: number) => put(offset, length, Math.max(0, Math.floor(n)).toString(8).padStart(length - 1, "0") + "\0");
  put(0, 100, f.name);
  octal(100, 8, f.mode & 0o7777);
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, f.size);
  octal(136, 12, Math.min(f.mtime, MAX_OCTAL_SIZE));
  put(148, 8, "        "); // checksum field counts as spaces while summing
  put(156, 1, f.typeflag);
  put(157, 100, f.linkname);
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}
