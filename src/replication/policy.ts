import { R2_BACKEND, type BackendConfig } from "../backends/backend-config";

/**
 * The replication policy (`REPLICATION_POLICY` var, docs/replication.md):
 *
 *   { "default": { "backends": ["r2", "remote"], "minCopies": 2 },
 *     "rules": [
 *       { "when": { "meta": { "tier": "archive" } }, "backends": ["type:filecoin × 3", "s3"] },
 *       { "when": { "sizeAbove": "100 MB" }, "backends": ["r2", "type:filecoin"] },
 *       { "when": { "sizeBelow": "1 MB" }, "backends": ["r2", "kubo"] } ] }
 *
 * The first rule whose every condition holds decides; none → `default`.
 * A target is a backend name or `type:<type>` (every configured backend of
 * that type), with an optional `× n` / `*n`: n distinct backends. R2 always
 * holds the pin (it is the source of every copy), listed or not. A pin may
 * override the policy with `meta.replication` (same target list,
 * comma-separated), when the operator allows it (`allowMetaOverride`,
 * default true).
 */
export type Policy = {
  default: { backends: string[]; minCopies?: number };
  rules: PolicyRule[];
  allowMetaOverride: boolean;
};

export type PolicyRule = {
  when: { sizeAbove?: number; sizeBelow?: number; name?: string; meta?: Record<string, string>; account?: string[] };
  backends: string[];
  minCopies?: number;
};

/** What a pin is matched on. `size` is the DAG's bytes (known once R2 holds it). */
export type PinFacts = { size: number; name?: string; meta: Record<string, string>; account: string };

/** Backends a pin's copies go to; `problems` says why the policy could not be met in full. */
export type Plan = { backends: string[]; minCopies: number; rule: string; problems: string[] };

/** Pin meta key of the per-pin override (PSA `meta`, native API). */
export const OVERRIDE_META = "replication";

export class PolicyError extends Error {
  constructor(message: string) {
    super(`REPLICATION_POLICY: ${message}`);
    this.name = "PolicyError";
  }
}

const DEFAULT_POLICY: Policy = { default: { backends: [R2_BACKEND] }, rules: [], allowMetaOverride: true };
const cache = new Map<string, Policy>();

/** The parsed `REPLICATION_POLICY` (empty: R2 only). Throws PolicyError on a malformed value. */
export function replicationPolicy(env: Env): Policy {
  const raw = env.REPLICATION_POLICY ?? "";
  const hit = cache.get(raw);
  if (hit !== undefined) return hit;
  const policy = raw.trim() === "" ? DEFAULT_POLICY : parsePolicy(raw);
  cache.set(raw, policy);
  return policy;
}

export function parsePolicy(raw: string): Policy {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new PolicyError("not valid JSON");
  }
  if (!isObject(value)) throw new PolicyError("must be a JSON object");
  const dflt = value.default ?? { backends: [R2_BACKEND] };
  if (!isObject(dflt)) throw new PolicyError("default must be an object");
  const rules = value.rules ?? [];
  if (!Array.isArray(rules)) throw new PolicyError("rules must be an array");
  return {
    default: { backends: targets(dflt.backends, "default.backends"), ...copies(dflt.minCopies, "default.minCopies") },
    rules: rules.map((rule, i) => parseRule(rule, `rules[${i}]`)),
    allowMetaOverride: value.allowMetaOverride === undefined ? true : value.allowMetaOverride === true,
  };
}

function parseRule(rule: unknown, where: string): PolicyRule {
  if (!isObject(rule) || !isObject(rule.when)) throw new PolicyError(`${where} needs a "when" object`);
  const when = rule.when;
  const out: PolicyRule["when"] = {};
  for (const key of Object.keys(when)) {
    if (!["sizeAbove", "sizeBelow", "name", "meta", "account"].includes(key)) throw new PolicyError(`${where}.when.${key} is not a condition`);
  }
  if (when.sizeAbove !== undefined) out.sizeAbove = bytes(when.sizeAbove, `${where}.when.sizeAbove`);
  if (when.sizeBelow !== undefined) out.sizeBelow = bytes(when.sizeBelow, `${where}.when.sizeBelow`);
  if (when.name !== undefined) {
    if (typeof when.name !== "string") throw new PolicyError(`${where}.when.name must be a glob string`);
    out.name = when.name;
  }
  if (when.meta !== undefined) {
    if (!isObject(when.meta) || !Object.values(when.meta).every((v) => typeof v === "string")) throw new PolicyError(`${where}.when.meta must map keys to strings`);
    out.meta = when.meta as Record<string, string>;
  }
  if (when.account !== undefined) {
    const accounts = typeof when.account === "string" ? [when.account] : when.account;
    if (!Array.isArray(accounts) || !accounts.every((a) => typeof a === "string")) throw new PolicyError(`${where}.when.account must be an account id or a list of them`);
    out.account = accounts as string[];
  }
  return { when: out, backends: targets(rule.backends, `${where}.backends`), ...copies(rule.minCopies, `${where}.minCopies`) };
}

/**
 * The plan of one pin: the first matching rule (or the pin's own
 * `meta.replication`), its targets expanded against the configured
 * backends. Targets that cannot be met (unknown name, fewer backends of a
 * type than asked) are reported in `problems`, never silently dropped.
 */
export function planFor(policy: Policy, pin: PinFacts, backends: Map<string, BackendConfig>): Plan {
  let chosen: { backends: string[]; minCopies?: number };
  let rule: string;
  const problems: string[] = [];
  const override = pin.meta[OVERRIDE_META];
  let overridden = false;
  if (override !== undefined && policy.allowMetaOverride) {
    try {
      chosen = { backends: targets(override.split(","), `meta.${OVERRIDE_META}`) };
      rule = `meta.${OVERRIDE_META}`;
      overridden = true;
    } catch (err) {
      problems.push(err instanceof Error ? err.message.replace(/^REPLICATION_POLICY: /, "") : String(err));
    }
  }
  if (!overridden) {
    const index = policy.rules.findIndex((r) => matches(r, pin));
    chosen = index < 0 ? policy.default : policy.rules[index]!;
    rule = index < 0 ? "default" : `rules[${index}]`;
  }
  const names: string[] = [R2_BACKEND];
  for (const target of chosen!.backends) {
    const { selector, count } = splitTarget(target);
    const candidates = selector.startsWith("type:")
      ? [...backends.values()].filter((b) => b.type === selector.slice(5)).map((b) => b.name).sort()
      : backends.has(selector) ? [selector] : [];
    if (candidates.length === 0) {
      problems.push(`${target}: no such backend is configured`);
      continue;
    }
    if (candidates.length < count) problems.push(`${target}: ${count} copies asked, ${candidates.length} backend(s) can hold one`);
    for (const name of candidates.slice(0, count)) if (!names.includes(name)) names.push(name);
  }
  const minCopies = chosen!.minCopies ?? names.length;
  if (names.length < minCopies) problems.push(`minCopies ${minCopies} cannot be met by ${names.length} backend(s)`);
  return { backends: names, minCopies, rule: rule!, problems };
}

function matches(rule: PolicyRule, pin: PinFacts): boolean {
  const w = rule.when;
  if (w.sizeAbove !== undefined && !(pin.size > w.sizeAbove)) return false;
  if (w.sizeBelow !== undefined && !(pin.size < w.sizeBelow)) return false;
  if (w.name !== undefined && (pin.name === undefined || !glob(w.name).test(pin.name))) return false;
  if (w.meta !== undefined && !Object.entries(w.meta).every(([k, v]) => pin.meta[k] === v)) return false;
  if (w.account !== undefined && !w.account.includes(pin.account)) return false;
  return true;
}

/** `name × 3`, `name*3`, `type:filecoin x3` → selector and count. */
export function splitTarget(target: string): { selector: string; count: number } {
  const m = /^\s*([a-z0-9:-]+)\s*(?:[×x*]\s*(\d+))?\s*$/i.exec(target);
  if (m === null) throw new PolicyError(`target "${target}" is not "<backend>" or "type:<type>", optionally "× n"`);
  const count = m[2] === undefined ? 1 : Number(m[2]);
  if (count < 1 || count > 10) throw new PolicyError(`target "${target}": copies must be 1 to 10`);
  return { selector: m[1]!.toLowerCase(), count };
}

function targets(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((t) => typeof t === "string")) throw new PolicyError(`${where} must be a list of backend targets`);
  const list = (value as string[]).map((t) => t.trim()).filter((t) => t !== "");
  for (const t of list) splitTarget(t);
  return list;
}

function copies(value: unknown, where: string): { minCopies?: number } {
  if (value === undefined) return {};
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw new PolicyError(`${where} must be a positive integer`);
  return { minCopies: value };
}

const UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A size: bytes as a number, or "100 MB" / "1.5GiB" (SI and binary units). */
export function bytes(value: unknown, where: string): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  const m = typeof value === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(value) : null;
  if (m === null) throw new PolicyError(`${where} must be bytes or a size like "100 MB"`);
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? "").toLowerCase()]!);
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
