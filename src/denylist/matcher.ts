/**
 * Answers "is this content path denied?" from an isolate-local snapshot, with
 * a handful of hash-set lookups per request (docs/denylist.md, "Matching").
 *
 * A request `/ipfs/{cid}/{path}` is checked against:
 * - clear-text rules anchored on the CID's multihash (`/ipfs/CID…`, any CID
 *   version or codec: "CID-rule … blocks the multihash");
 * - double-hash digests ("Doublehash-Rule", as nopfs computes them):
 *   sha256(`B58MH`), sha256(`CIDV1B32/`) (legacy badbits), and with a path
 *   sha256(`B58MH/PATH`), sha256(`CIDV1B32/PATH`).
 * `/ipns/{name}/{path}` likewise with `/ipns/NAME…` rules and
 * sha256(`B58MH`) / sha256(`CIDV1B32/`) for keys, sha256(`/ipns/NAME`) /
 * sha256(`NAME/`) for DNSLink names (plus `/PATH` forms).
 *
 * A CID-level rule (`/ipfs/CID`, or a double-hash of the bare CID) also denies
 * every path under that CID: serving the path needs the root block, which a
 * BlockService-level block forbids (IPIP-383, warning under "/ipfs/CID/PATH*").
 * The last matching rule wins ("Negated rules"), lists in DENYLIST_URLS order
 * and the operator's entries last; plain `//` entries count as the first
 * lines of their list.
 */
import type { CID } from "multiformats/cid";
import { parseIpnsKey } from "../gateway/subdomain/names";
import { bytesToHex, multihashB58, parseRule, type DenyRule, type DenyStatus } from "./rule";
import { hasKey, type DenylistSnapshot } from "./snapshot";

export interface DenyVerdict {
  status: DenyStatus;
  /** The rule that denied it (a `//` digest for hashed entries). */
  rule: string;
  /** The list it came from (URL, or `operator`). */
  list: string;
}

interface IndexedRule {
  rule: DenyRule;
  list: number;
  line: number;
  status: DenyStatus;
}

interface Hit {
  list: number;
  line: number;
  negated: boolean;
  status: DenyStatus;
  rule: string;
}

/** The base58btc multihash of CIDs seen lately (src/gateway/request/content-path.ts reuses CID objects of popular paths). */
const rootKeys = new WeakMap<CID, string>();

function rootKey(cid: CID): string {
  let key = rootKeys.get(cid);
  if (key === undefined) rootKeys.set(cid, (key = multihashB58(cid.multihash.bytes)));
  return key;
}

export class DenylistMatcher {
  readonly version: number;
  readonly #snapshot: DenylistSnapshot;
  /** `ipfs:B58MH`, `ipns:NAME`, `hash:HEX` → rules. */
  readonly #rules = new Map<string, IndexedRule[]>();
  /** Whether any list has double-hash entries (otherwise no digest is computed). */
  readonly #hashing: boolean;

  constructor(snapshot: DenylistSnapshot) {
    this.version = snapshot.version;
    this.#snapshot = snapshot;
    let hashRules = false;
    for (const r of snapshot.rules) {
      const parsed = parseRule(r.text);
      if ("error" in parsed) continue; // validated when stored; a rule from a newer parser is skipped
      const list = snapshot.lists[r.list];
      if (!list) continue;
      const t = parsed.target;
      const key = t.kind === "hash" ? `hash:${bytesToHex(t.digest)}` : t.kind === "ipfs" ? `ipfs:${t.multihash}` : `ipns:${t.name}`;
      if (t.kind === "hash") hashRules = true;
      const entry = { rule: parsed, list: r.list, line: r.line, status: r.status ?? parsed.status ?? list.status };
      const bucket = this.#rules.get(key);
      if (bucket) bucket.push(entry);
      else this.#rules.set(key, [entry]);
    }
    this.#hashing = hashRules || snapshot.lists.some((l) => l.keys.length > 0);
  }

  /**
   * The verdict for `/ipfs/{cid}/{pathSegments…}` (segments percent-decoded),
   * or undefined when it may be served.
   *
   * @example await matcher.isDenied(CID.parse("bafy…"), ["photos", "a.jpg"]) // { status: 410, rule: "/ipfs/bafy…/photos*", list: "…" }
   */
  async isDenied(cid: CID, pathSegments: readonly string[] = []): Promise<DenyVerdict | undefined> {
    const mh = rootKey(cid);
    const path = pathSegments.join("/");
    const hits = this.#ruleHits(`ipfs:${mh}`, path);
    if (this.#hashing) {
      const v1 = cid.toV1().toString();
      const inputs = [mh, `${v1}/`];
      if (path !== "") inputs.push(`${mh}/${path}`, `${v1}/${path}`);
      await this.#hashHits(inputs, hits);
    }
    return verdict(hits, this.#snapshot);
  }

  /** The verdict for `/ipns/{name}/{pathSegments…}`: an IPNS key (any form) or a DNSLink name. */
  async isNameDenied(name: string, pathSegments: readonly string[] = []): Promise<DenyVerdict | undefined> {
    const key = parseIpnsKey(name);
    const anchor = key ? multihashB58(key.multihash.bytes) : name.toLowerCase();
    const path = pathSegments.join("/");
    const hits = this.#ruleHits(`ipns:${anchor}`, path);
    if (this.#hashing) {
      const inputs = key ? [anchor, `${key.toString()}/`] : [`/ipns/${anchor}`, `${anchor}/`];
      if (path !== "") {
        inputs.push(key ? `${anchor}/${path}` : `/ipns/${anchor}/${path}`, key ? `${key.toString()}/${path}` : `${anchor}/${path}`);
      }
      await this.#hashHits(inputs, hits);
    }
    return verdict(hits, this.#snapshot);
  }

  #ruleHits(anchor: string, path: string): Hit[] {
    const hits: Hit[] = [];
    for (const r of this.#rules.get(anchor) ?? []) {
      const t = r.rule.target;
      if (t.kind === "hash") continue;
      // "IPFS-Path-Prefix-Rule": `PATH*` matches any path starting with PATH;
      // a bare CID/name rule covers everything under it (see the file comment).
      const matches = t.prefix || t.path === "" ? path.startsWith(t.path) : path === t.path;
      if (matches) hits.push({ list: r.list, line: r.line, negated: r.rule.negated, status: r.status, rule: r.rule.text });
    }
    return hits;
  }

  async #hashHits(inputs: string[], hits: Hit[]): Promise<void> {
    const encoder = new TextEncoder();
    const digests = await Promise.all(inputs.map((s) => crypto.subtle.digest("SHA-256", encoder.encode(s))));
    for (const buffer of digests) {
      const d = new Uint8Array(buffer);
      const hi = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
      const lo = ((d[4]! << 24) | (d[5]! << 16) | (d[6]! << 8) | d[7]!) >>> 0;
      this.#snapshot.lists.forEach((list, index) => {
        if (list.keys.length > 0 && hasKey(list.keys, hi, lo)) {
          hits.push({ list: index, line: 0, negated: false, status: list.status, rule: `//${bytesToHex(d)}` });
        }
      });
      for (const r of this.#rules.get(`hash:${bytesToHex(d)}`) ?? []) {
        hits.push({ list: r.list, line: r.line, negated: r.rule.negated, status: r.status, rule: r.rule.text });
      }
    }
  }
}

/** "Negated rules": the last matching rule decides. */
function verdict(hits: Hit[], snapshot: DenylistSnapshot): DenyVerdict | undefined {
  let last: Hit | undefined;
  for (const h of hits) {
    if (!last || h.list > last.list || (h.list === last.list && h.line >= last.line)) last = h;
  }
  if (!last || last.negated) return undefined;
  return { status: last.status, rule: last.rule, list: snapshot.lists[last.list]?.id ?? "" };
}
