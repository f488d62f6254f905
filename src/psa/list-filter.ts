import { badRequest } from "../http/errors";
import { parseUserCid } from "../pinning/parse-cid";
import { PIN_STATES, TEXT_MATCHES, type PinFilter, type PinState, type TextMatch } from "../pinning/pin-types";
import { MAX_NAME, parseMeta } from "./pin-input";

/** RFC 3339 §5.6 date-time (PSA `before`/`after`). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * `GET /pins` query parameters (ipfs-pinning-service.yaml
 * components.parameters), validated. Arrays are `style: form, explode:
 * false` (`?cid=a,b`); repeated parameters are accepted too. Without
 * `status`, only pinned pins are listed ("when no filter is provided, only
 * successful pins are returned").
 */
export function parseListFilter(url: URL): PinFilter {
  const q = url.searchParams;
  const list = (name: string): string[] | undefined => {
    const values = q.getAll(name);
    if (values.length === 0) return undefined;
    return values.flatMap((v) => v.split(","));
  };
  const filter: PinFilter = { match: "exact", status: ["pinned"], limit: 10 };

  const cids = list("cid");
  if (cids !== undefined) {
    const unique = [...new Set(cids)];
    if (unique.length < 1 || unique.length > 10) throw badRequest("cid takes 1 to 10 CIDs");
    filter.cids = [...new Set(unique.map((c) => parseUserCid(c).toV1().toString()))];
  }
  const name = q.get("name");
  if (name !== null) {
    if ([...name].length > MAX_NAME) throw badRequest(`name longer than ${MAX_NAME} characters`);
    filter.name = name;
  }
  const match = q.get("match");
  if (match !== null) {
    if (!TEXT_MATCHES.includes(match as TextMatch)) throw badRequest(`match must be one of ${TEXT_MATCHES.join(", ")}`);
    filter.match = match as TextMatch;
  }
  const status = list("status");
  if (status !== undefined) {
    for (const s of status) {
      if (!PIN_STATES.includes(s as PinState)) throw badRequest(`status must be a list of ${PIN_STATES.join(", ")}`);
    }
    filter.status = [...new Set(status)] as PinState[];
  }
  for (const key of ["before", "after"] as const) {
    const value = q.get(key);
    if (value === null) continue;
    const ms = DATE_TIME.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) throw badRequest(`${key} must be an RFC 3339 date-time`);
    filter[key] = ms;
  }
  const limit = q.get("limit");
  if (limit !== null) {
    const n = /^\d{1,4}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= 1000)) throw badRequest("limit must be an integer from 1 to 1000");
    filter.limit = n;
  }
  const meta = q.get("meta");
  if (meta !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(meta);
    } catch {
      throw badRequest("meta must be a JSON object of strings");
    }
    filter.meta = parseMeta(parsed, "meta");
  }
  return filter;
}
