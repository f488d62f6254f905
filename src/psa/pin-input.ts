import { badRequest } from "../http/errors";
import { parseUserCid } from "../pinning/parse-cid";
import type { PinInput } from "../pinning/pin-types";

/** Limits of a `Pin` (PSA schema: name ≤ 255, origins ≤ 20, meta ≤ 1000 entries; sizes ours, docs/pinning.md). */
export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_NAME = 255;
export const MAX_ORIGINS = 20;
export const MAX_ORIGIN_LENGTH = 1024;
export const MAX_META_ENTRIES = 1000;
export const MAX_META_KEY = 255;
export const MAX_META_VALUE = 4096;
export const MAX_META_BYTES = 64 * 1024;

/** Parses a request body as JSON, with a size cap; 400 on anything else. */
export async function readJson(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const length = Number(request.headers.get("Content-Length") ?? "0");
  if (length > maxBytes) throw badRequest(`request body larger than ${maxBytes} bytes`);
  const text = await request.text();
  if (new TextEncoder().encode(text).length > maxBytes) throw badRequest(`request body larger than ${maxBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("request body is not valid JSON");
  }
}

/** A PSA `Pin` object (components.schemas.Pin), validated; returns it and its root as CIDv1. */
export function parsePin(body: unknown): { input: PinInput; root: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("body must be a JSON Pin object");
  const pin = body as Record<string, unknown>;
  if (typeof pin.cid !== "string") throw badRequest("cid is required and must be a string");
  const cid = parseUserCid(pin.cid);
  const input: PinInput = { cid: pin.cid, origins: parseOrigins(pin.origins), meta: parseMeta(pin.meta, "meta") };
  if (pin.name !== undefined && pin.name !== null) {
    if (typeof pin.name !== "string") throw badRequest("name must be a string");
    if ([...pin.name].length > MAX_NAME) throw badRequest(`name longer than ${MAX_NAME} characters`);
    input.name = pin.name;
  }
  return { input, root: cid.toV1().toString() };
}

function parseOrigins(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest("origins must be an array of multiaddrs");
  if (value.length > MAX_ORIGINS) throw badRequest(`origins has more than ${MAX_ORIGINS} entries`);
  for (const origin of value) {
    if (typeof origin !== "string" || origin.length === 0 || origin.length > MAX_ORIGIN_LENGTH) {
      throw badRequest(`each origin must be a non-empty string of at most ${MAX_ORIGIN_LENGTH} characters`);
    }
  }
  if (new Set(value).size !== value.length) throw badRequest("origins must be unique");
  return value as string[];
}

/** A PSA `PinMeta`: an object of string values (used for `Pin.meta` and the `meta` query filter). */
export function parseMeta(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw badRequest(`${field} must be a JSON object of strings`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_META_ENTRIES) throw badRequest(`${field} has more than ${MAX_META_ENTRIES} entries`);
  for (const [key, v] of entries) {
    if (typeof v !== "string") throw badRequest(`${field}.${key.slice(0, 64)} must be a string`);
    if (key.length === 0 || key.length > MAX_META_KEY) throw badRequest(`${field} keys must be 1 to ${MAX_META_KEY} characters`);
    if (v.length > MAX_META_VALUE) throw badRequest(`${field} values must be at most ${MAX_META_VALUE} characters`);
  }
  if (new TextEncoder().encode(JSON.stringify(value)).length > MAX_META_BYTES) throw badRequest(`${field} larger than ${MAX_META_BYTES} bytes`);
  return Object.fromEntries(entries) as Record<string, string>;
}
