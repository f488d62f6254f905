import { badRequest } from "../../http/errors";

/** `dag-scope` (trustless-gateway.md#dag-scope-request-query-parameter, IPIP-402). */
export type DagScope = "block" | "entity" | "all";

/** `entity-bytes=from:to` (IPIP-402): inclusive offsets, negative = from the end, `*` = end of file. */
export interface EntityBytes {
  from: number;
  to: number | "*";
}

export function parseDagScope(value: string | null): DagScope | undefined {
  if (value === null || value === "") return undefined;
  if (value === "block" || value === "entity" || value === "all") return value;
  throw badRequest(`invalid dag-scope "${value.slice(0, 32)}": expected block, entity or all`);
}

const INT = /^-?\d{1,16}$/;

export function parseEntityBytes(value: string | null): EntityBytes | undefined {
  if (value === null) return undefined;
  const m = /^([^:]*):([^:]*)$/.exec(value);
  if (!m || !INT.test(m[1]!) || !(m[2] === "*" || INT.test(m[2]!))) {
    throw badRequest(`invalid entity-bytes "${value.slice(0, 64)}": expected from:to with integers or "*"`);
  }
  const from = Number(m[1]);
  const to = m[2] === "*" ? "*" : Number(m[2]);
  if (to !== "*" && from >= 0 && to >= 0 && to < from) {
    throw badRequest(`invalid entity-bytes "${value}": "to" is before "from"`);
  }
  return { from, to };
}

/** Resolves entity-bytes against an entity of `size` bytes: [first, last] inclusive, or undefined when empty or outside. */
export function resolveEntityBytes(range: EntityBytes, size: number): [number, number] | undefined {
  let first = range.from < 0 ? size + range.from : range.from;
  let last = range.to === "*" ? size - 1 : range.to < 0 ? size + range.to : range.to;
  if (first < 0) first = 0;
  if (last > size - 1) last = size - 1;
  if (size === 0 || first > last || first >= size) return undefined;
  return [first, last];
}
