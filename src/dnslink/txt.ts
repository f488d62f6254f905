import { CID } from "multiformats/cid";
import { isDnslinkName, parseIpnsName } from "../ipns/name";
import { normalizeDomain } from "./domain";

/**
 * Reading DNSLink TXT records (https://dnslink.dev, "Resolving"): entries are
 * `dnslink=/{namespace}/{identifier}[/path]`; of several valid entries the
 * lexicographically first one is used, so that every resolver picks the same
 * one whatever order DNS returns them in.
 */
const PREFIX = "dnslink=";

/**
 * The text of one TXT answer's `data` as DoH JSON APIs give it. Cloudflare
 * quotes the character-strings (`"\"part1\" \"part2\""`, RFC 1035 §3.3.14
 * splits long values at 255 bytes), Google gives them unquoted; quoted
 * strings are unescaped (`\"`, `\\`, `\DDD`) and concatenated.
 */
export function txtDataToText(data: string): string {
  const trimmed = data.trim();
  if (!trimmed.startsWith('"')) return trimmed;
  let out = "";
  let i = 0;
  while (i < trimmed.length) {
    if (trimmed[i] === " ") {
      i++;
      continue;
    }
    if (trimmed[i] !== '"') return trimmed; // not a list of quoted strings after all
    i++;
    while (i < trimmed.length && trimmed[i] !== '"') {
      if (trimmed[i] === "\\") {
        const digits = /^\d{3}/.exec(trimmed.slice(i + 1, i + 4));
        if (digits) {
          out += String.fromCharCode(Number(digits[0]));
          i += 4;
          continue;
        }
        i++;
      }
      out += trimmed[i] ?? "";
      i++;
    }
    if (i >= trimmed.length) return trimmed; // unterminated quote
    i++;
  }
  return out;
}

export interface DnslinkEntries {
  /** Valid `/ipfs/…` and `/ipns/…` values, sorted; the first one is the answer. */
  readonly valid: string[];
  /** `dnslink=` entries for ipfs/ipns that could not be used, with why. */
  readonly malformed: { entry: string; reason: string }[];
}

/** Picks the DNSLink entries out of TXT texts (other TXT records are ignored). */
export function dnslinkEntries(texts: readonly string[]): DnslinkEntries {
  const valid: string[] = [];
  const malformed: { entry: string; reason: string }[] = [];
  for (const text of texts) {
    if (!text.startsWith(PREFIX)) continue;
    const value = text.slice(PREFIX.length).trim();
    const reason = invalidReason(value);
    if (reason === null) valid.push(value);
    else if (reason !== "other namespace") malformed.push({ entry: text, reason });
  }
  valid.sort();
  return { valid, malformed };
}

/** null when `value` is a usable content path; "other namespace" for non-IPFS DNSLinks, ignored. */
function invalidReason(value: string): string | null {
  // dnslink.dev: ASCII only, `/namespace/identifier`.
  if (!/^[\x21-\x7e]+$/.test(value)) return "not printable ASCII";
  const match = /^\/([^/]+)\/([^/]+)(\/.*)?$/.exec(value);
  if (match === null) return "not /namespace/identifier";
  const [, namespace, identifier] = match as unknown as [string, string, string];
  if (namespace === "ipfs") {
    try {
      CID.parse(identifier);
      return null;
    } catch {
      return "not a CID";
    }
  }
  if (namespace === "ipns") {
    try {
      if (isDnslinkName(identifier)) normalizeDomain(identifier);
      else parseIpnsName(identifier);
      return null;
    } catch {
      return "not an IPNS name or DNS name";
    }
  }
  return "other namespace";
}
