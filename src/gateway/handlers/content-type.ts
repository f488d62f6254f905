/**
 * Content-Type of a deserialized UnixFS file (path-gateway.md#content-type-response-header):
 * from the file name's extension first, then by sniffing the first bytes
 * (a subset of the WHATWG MIME Sniffing standard, plus JSON and SVG, which
 * the spec names as useful detections).
 */

/** How many leading bytes sniffing looks at (WHATWG mimesniff §7: the resource header is at most 1445 bytes; 512 covers every signature below). */
export const SNIFF_BYTES = 512;

const TEXT = "; charset=utf-8";

const BY_EXTENSION: Record<string, string> = {
  html: "text/html" + TEXT,
  htm: "text/html" + TEXT,
  xhtml: "application/xhtml+xml",
  css: "text/css" + TEXT,
  js: "text/javascript" + TEXT,
  mjs: "text/javascript" + TEXT,
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  txt: "text/plain" + TEXT,
  md: "text/markdown" + TEXT,
  csv: "text/csv" + TEXT,
  xml: "text/xml" + TEXT,
  svg: "image/svg+xml",
  png: "image/png",
  apng: "image/apng",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  bmp: "image/bmp",
  ico: "image/x-icon",
  tif: "image/tiff",
  tiff: "image/tiff",
  mp4: "video/mp4",
  m4v: "video/mp4",
  webm: "video/webm",
  ogv: "video/ogg",
  mov: "video/quicktime",
  mkv: "video/x-matroska",
  m3u8: "application/vnd.apple.mpegurl",
  ts: "video/mp2t",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  wav: "audio/wav",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  flac: "audio/flac",
  pdf: "application/pdf",
  wasm: "application/wasm",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  zip: "application/zip",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
  car: "application/vnd.ipld.car",
  epub: "application/epub+zip",
};

/** The type for a file name's extension, or undefined when there is none we know. */
export function typeByExtension(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()];
}

type Pattern = { sig: (number | null)[]; type: string }; // null = any byte

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/** Exact-prefix signatures (mimesniff §6 image, audio/video, font, archive types). */
const SIGNATURES: Pattern[] = [
  { sig: ascii("%PDF-"), type: "application/pdf" },
  { sig: ascii("%!PS-Adobe-"), type: "application/postscript" },
  { sig: ascii("GIF87a"), type: "image/gif" },
  { sig: ascii("GIF89a"), type: "image/gif" },
  { sig: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], type: "image/png" },
  { sig: [0xff, 0xd8, 0xff], type: "image/jpeg" },
  { sig: [...ascii("RIFF"), null, null, null, null, ...ascii("WEBPVP")], type: "image/webp" },
  { sig: [...ascii("RIFF"), null, null, null, null, ...ascii("WAVE")], type: "audio/wav" },
  { sig: [...ascii("RIFF"), null, null, null, null, ...ascii("AVI ")], type: "video/avi" },
  { sig: ascii("BM"), type: "image/bmp" },
  { sig: [0x00, 0x00, 0x01, 0x00], type: "image/x-icon" },
  { sig: [0x1a, 0x45, 0xdf, 0xa3], type: "video/webm" },
  { sig: ascii("OggS\u0000"), type: "application/ogg" },
  { sig: ascii("ID3"), type: "audio/mpeg" },
  { sig: ascii("fLaC"), type: "audio/flac" },
  { sig: ascii("wOFF"), type: "font/woff" },
  { sig: ascii("wOF2"), type: "font/woff2" },
  { sig: [0x00, 0x01, 0x00, 0x00, 0x00], type: "font/ttf" },
  { sig: ascii("OTTO"), type: "font/otf" },
  { sig: [0x50, 0x4b, 0x03, 0x04], type: "application/zip" },
  { sig: [0x1f, 0x8b, 0x08], type: "application/gzip" },
  { sig: ascii("Rar!\u001a\u0007"), type: "application/x-rar-compressed" },
  { sig: [0x00, 0x61, 0x73, 0x6d], type: "application/wasm" },
];

/** Tags that make a text an HTML document (mimesniff §7.1 "text/html" patterns). */
const HTML_TAGS = ["<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div", "<font", "<table", "<a", "<style", "<title", "<b", "<body", "<br", "<p", "<!--"];

function matches(bytes: Uint8Array, sig: (number | null)[]): boolean {
  if (bytes.length < sig.length) return false;
  return sig.every((b, i) => b === null || bytes[i] === b);
}

/** Whether a byte is a "binary data byte" (mimesniff §3: control bytes other than TAB, LF, FF, CR, ESC). */
function isBinaryByte(b: number): boolean {
  return b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f);
}

function isMp4(bytes: Uint8Array): boolean {
  // mimesniff §6.2.1: a box whose type is "ftyp" with an "mp4" brand.
  if (bytes.length < 12) return false;
  const boxSize = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  if (String.fromCharCode(...bytes.subarray(4, 8)) !== "ftyp" || boxSize % 4 !== 0 || boxSize > bytes.length) return false;
  for (let i = 8; i + 3 <= boxSize; i += 4) {
    if (i === 12) continue; // minor version
    if (bytes[i] === 0x6d && bytes[i + 1] === 0x70 && bytes[i + 2] === 0x34) return true;
  }
  return false;
}

/**
 * Sniffs the type from the first bytes of a file. `complete` says these are
 * all of its bytes, which lets a whole small file be recognised as JSON.
 */
export function sniffContentType(head: Uint8Array, complete: boolean): string {
  const bytes = head.subarray(0, SNIFF_BYTES);
  if (matches(bytes, [0xef, 0xbb, 0xbf])) return "text/plain" + TEXT;
  if (matches(bytes, [0xfe, 0xff])) return "text/plain; charset=utf-16be";
  if (matches(bytes, [0xff, 0xfe])) return "text/plain; charset=utf-16le";
  for (const { sig, type } of SIGNATURES) if (matches(bytes, sig)) return type;
  if (isMp4(bytes)) return "video/mp4";

  if (bytes.some(isBinaryByte)) return "application/octet-stream";
  const text = new TextDecoder().decode(bytes);
  const start = text.replace(/^[\t\n\f\r ]+/, "");
  const lower = start.slice(0, 256).toLowerCase();
  if (lower.startsWith("<?xml")) return /<svg[\s>]/.test(lower) ? "image/svg+xml" : "text/xml" + TEXT;
  if (lower.startsWith("<svg")) return "image/svg+xml";
  for (const tag of HTML_TAGS) {
    // The tag must be followed by a space or ">" (mimesniff: "tag-terminating byte").
    const after = lower.charAt(tag.length);
    if (lower.startsWith(tag) && (tag === "<!--" || after === " " || after === ">")) return "text/html" + TEXT;
  }
  if (complete && (start.startsWith("{") || start.startsWith("[")) && isJson(text)) return "application/json";
  return "text/plain" + TEXT;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
