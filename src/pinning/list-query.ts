import type { PinFilter } from "./pin-types";

/**
 * The SQL `WHERE` clause and bound parameters of a PSA `GET /pins` filter
 * (one clause per parameter, ANDed; `meta` is an AND over its entries).
 * Never interpolates a value: everything is bound.
 */
export function whereClause(filter: PinFilter): { sql: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (filter.cids !== undefined) {
    clauses.push(`p.root IN (${filter.cids.map(() => "?").join(", ")})`);
    params.push(...filter.cids);
  }
  if (filter.name !== undefined) {
    switch (filter.match) {
      case "exact":
        clauses.push("p.name = ?");
        params.push(filter.name);
        break;
      case "iexact":
        clauses.push("p.name_folded = ?");
        params.push(filter.name.toLowerCase());
        break;
      case "partial":
        clauses.push("instr(p.name, ?) > 0");
        params.push(filter.name);
        break;
      case "ipartial":
        clauses.push("instr(p.name_folded, ?) > 0");
        params.push(filter.name.toLowerCase());
        break;
    }
  }
  clauses.push(`p.status IN (${filter.status.map(() => "?").join(", ")})`);
  params.push(...filter.status);
  if (filter.before !== undefined) {
    clauses.push("p.created < ?");
    params.push(filter.before);
  }
  if (filter.after !== undefined) {
    clauses.push("p.created > ?");
    params.push(filter.after);
  }
  for (const [key, value] of Object.entries(filter.meta ?? {})) {
    clauses.push("EXISTS (SELECT 1 FROM pin_meta m WHERE m.requestid = p.requestid AND m.key = ? AND m.value = ?)");
    params.push(key, value);
  }
  return { sql: clauses.join(" AND "), params };
}
