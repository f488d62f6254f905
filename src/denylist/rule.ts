/**
 * One block item of a compact denylist (IPIP-383, specs.ipfs.tech
 * "Compact Denylist Format", "Block item"), parsed. Shared by the list
 * parser, the Denylist Durable Object, the admin API and the matcher.
 */
import { base58btc } from "multiformats/bases/base58";
import { parseCid, parseIpnsKey } from "../gateway/subdomain/names";

export type DenyStatus = 410 | 451;

/** What a rule is anchored on. */
export type RuleTarget =
  /**
   * `//DOUBLE-HASH`: a sha2-256 digest of the CID/path string ("Doublehash-Rule");
   * `legacy` = 64 hex chars (badbits: sha256 of `CIDV1_BASE32/PATH`),
   * `multihash` = base58btc sha2-256 multihash (sha256 of `B58MH[/PATH]`).
   * Either way only the 32 digest bytes matter: the two forms hash different strings.
   */
  | { kind: "hash"; digest: Uint8Array; form: "legacy" | "multihash" }
  /** `/ipfs/CID[/PATH][*]`, anchored on the base58btc multihash ("CID-rule": any CID version or codec). */
  | { kind: "ipfs"; multihash: string; path: string; prefix: boolean }
  /** `/ipns/NAME[/PATH][*]`: a key's base58btc multihash, or a lower-cased DNSLink name ("IPNS-rule"). */
  | { kind: "ipns"; name: string; path: string; prefix: boolean };

export interface DenyRule {
  target: RuleTarget;
  /** `!` (also `-`/`+` as nopfs accepts): an allow rule ("Negated rules"). */
  negated: boolean;
  /** A per-item hint `status=451` / `gateway_status:451` ("Hints"); undefined = the list's default. */
  status?: DenyStatus;
  /** The rule field as written (without hints), for messages. */
  text: string;
}

/** Why a line could not be used. `unsupported` = well-formed but not implemented here (e.g. a blake3 double-hash). */
export type RuleError = { error: "malformed" | "unsupported"; reason: string };

/** Hint names that carry the HTTP status of a blocked item (`gateway_status` is nopfs' name). */
const STATUS_HINTS = new Set(["status", "gateway_status"]);

/**
 * Parses one block item line (comments and blank lines are the caller's).
 * Hints follow the rule, space-separated, as `key=value` or `key:value`.
 *
 * @example parseRule("/ipfs/QmX…/photos* status=451") // { target: { kind: "ipfs", path: "photos", prefix: true, … }, status: 451, … }
 */
export function parseRule(line: string): DenyRule | RuleError {
  const fields = line.trim().split(/[ \t]+/);
  let text = fields[0] ?? "";
  let status: DenyStatus | undefined;
  for (const hint of fields.slice(1)) {
    const m = /^([^=:]+)[=:](.*)$/.exec(hint);
    if (!m) continue; // not a key/value: ignored ("Implementation SHOULD ignore unsupported fields and hints")
    if (STATUS_HINTS.has(m[1] as string)) {
      const parsed = parseStatus(m[2] as string);
      if (parsed === undefined) return { error: "malformed", reason: `unsupported status hint "${excerpt(hint)}"` };
      status = parsed;
    }
  }

  let negated = false;
  if (/^[!+-]/.test(text)) {
    negated = true;
    text = text.slice(1);
  }

  const target = parseTarget(text);
  if ("error" in target) return target;
  return { target, negated, status, text: (negated ? "!" : "") + text };
}

/** A status hint value; only 410 and 451 are meaningful for blocked content. */
export function parseStatus(value: string | number): DenyStatus | undefined {
  const n = typeof value === "number" ? value : /^\d{3}$/.test(value) ? Number(value) : NaN;
  return n === 410 || n === 451 ? n : undefined;
}

function parseTarget(text: string): RuleTarget | RuleError {
  if (text.startsWith("//")) return parseDoubleHash(text.slice(2));
  const m = /^\/(ipfs|ipld|ipns)\/([^/]+)(?:\/(.*))?$/.exec(text);
  if (!m) return { error: "malformed", reason: `not a /ipfs/, /ipns/ or // rule: "${excerpt(text)}"` };
  const [, ns, root, rest] = m as unknown as [string, string, string, string | undefined];
  const path = parsePath(rest ?? "");
  if (path === undefined) return { error: "malformed", reason: `bad percent-encoding in "${excerpt(text)}"` };

  if (ns === "ipns") {
    const key = parseIpnsKey(root);
    const name = key ? multihashB58(key.multihash.bytes) : root.toLowerCase();
    return { kind: "ipns", name, ...path };
  }
  const cid = parseCid(root);
  if (!cid) return { error: "malformed", reason: `not a CID: "${excerpt(root)}"` };
  return { kind: "ipfs", multihash: multihashB58(cid.multihash.bytes), ...path };
}

/**
 * "PATH elements are expected to be %-encoded"; `PATH*` is a prefix rule and
 * `PATH/*` is equivalent to `PATH*` ("IPFS-Path-Prefix-Rule"); `path` and
 * `path/` are the same rule. Returned decoded, without surrounding slashes.
 */
function parsePath(raw: string): { path: string; prefix: boolean } | undefined {
  let prefix = false;
  let p = raw;
  if (p.endsWith("*")) {
    prefix = true;
    p = p.slice(0, -1);
  }
  try {
    p = p.split("/").filter((s) => s !== "").map(decodeURIComponent).join("/");
  } catch {
    return undefined;
  }
  return { path: p, prefix };
}

function parseDoubleHash(value: string): RuleTarget | RuleError {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { kind: "hash", digest: hexToBytes(value), form: "legacy" };
  let mh: Uint8Array;
  try {
    mh = base58btc.baseDecode(value);
  } catch {
    return { error: "malformed", reason: `double-hash is neither hex sha256 nor a base58btc multihash: "${excerpt(value)}"` };
  }
  // A sha2-256 multihash: code 0x12, length 0x20, 32 digest bytes.
  if (mh.length === 34 && mh[0] === 0x12 && mh[1] === 0x20) {
    return { kind: "hash", digest: mh.slice(2), form: "multihash" };
  }
  return { error: "unsupported", reason: `double-hash uses a hash function other than sha2-256: "${excerpt(value)}"` };
}

/** A multihash in base58btc without multibase prefix (the CIDv0 form of a sha2-256 multihash). */
export function multihashB58(bytes: Uint8Array): string {
  return base58btc.baseEncode(bytes);
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function excerpt(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
