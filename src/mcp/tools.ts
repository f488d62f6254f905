/**
 * The MCP tools (docs/operations.md "MCP"). Each one goes through the
 * worker's own HTTP surface with the caller's credentials (`ToolContext.call`
 * dispatches an internal request through the same Hono app), so validation,
 * authorisation, verification, quotas, the audit trail and error messages
 * are the ones the native API has: nothing is reimplemented here.
 *
 * Failures are MCP tool errors (`isError: true` with a message), never
 * protocol errors: the model sees why and can correct itself.
 */
import * as z from "zod";
import type { McpServer } from "@modelcontextprotocol/server";
import { verifyCar } from "./car-verify";
import { readBounded } from "../http/read-bounded";

export interface ToolContext {
  /** Sends `init` to the worker's own route `path` with the caller's bearer token. */
  call(path: string, init?: RequestInit): Promise<Response>;
  /** Fetches a remote URL (car_verify). */
  fetchRemote(url: string, signal: AbortSignal): Promise<Response>;
}

/** fetch_content answers at most this much (4 MiB), and 1 MiB by default. */
export const FETCH_MAX_BYTES = 4 * 1024 * 1024;
const FETCH_DEFAULT_BYTES = 1024 * 1024;
/** car_verify reads at most this much (64 MiB), and 16 MiB by default. */
export const CAR_MAX_BYTES = 64 * 1024 * 1024;
const CAR_DEFAULT_BYTES = 16 * 1024 * 1024;
const CAR_FETCH_TIMEOUT_MS = 60_000;

type ToolResult = { content: { type: "text"; text: string }[]; isError?: boolean; structuredContent?: Record<string, unknown> };

const ok = (value: Record<string, unknown>): ToolResult => ({ content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value });
const fail = (message: string): ToolResult => ({ content: [{ type: "text", text: message }], isError: true });

/** A tool error from a non-2xx answer of our own routes: the PSA `{error:{reason,details}}`, or the plain-text message. */
async function failFrom(res: Response, what: string): Promise<ToolResult> {
  const text = (await res.text()).trim();
  try {
    const body = JSON.parse(text) as { error?: { reason?: string; details?: string } };
    if (body.error?.reason) return fail(`${what} failed (HTTP ${res.status} ${body.error.reason}): ${body.error.details ?? ""}`.trim());
  } catch {
    // plain text
  }
  return fail(`${what} failed (HTTP ${res.status}): ${text.slice(0, 500)}`);
}

const cidArg = z.string().min(1).max(512).describe("a CID (v0 or v1)");
const requestIdArg = z.string().min(1).max(128).describe("the pin's requestid");

export function registerTools(server: McpServer, ctx: ToolContext): void {
  const json = (body: unknown): RequestInit => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  server.registerTool(
    "pin_content",
    {
      description: "Pin a CID in this account (IPFS Pinning Service API POST /pins). Answers the PinStatus (queued, pinning, pinned or failed).",
      inputSchema: z.object({
        cid: cidArg,
        name: z.string().max(255).optional(),
        origins: z.array(z.string().max(2048)).max(20).optional().describe("multiaddrs or gateway URLs that have the content"),
        meta: z.record(z.string(), z.string()).optional(),
      }),
    },
    async (args) => {
      const res = await ctx.call("/psa/pins", json(args));
      return res.ok ? ok((await res.json()) as Record<string, unknown>) : failFrom(res, "pin_content");
    },
  );

  server.registerTool(
    "pin_status",
    { description: "The PinStatus of one pin of this account.", inputSchema: z.object({ requestid: requestIdArg }) },
    async ({ requestid }) => {
      const res = await ctx.call(`/psa/pins/${encodeURIComponent(requestid)}`);
      return res.ok ? ok((await res.json()) as Record<string, unknown>) : failFrom(res, "pin_status");
    },
  );

  server.registerTool(
    "list_pins",
    {
      description: "Pins of this account, newest first (IPFS Pinning Service API GET /pins).",
      inputSchema: z.object({
        status: z.array(z.enum(["queued", "pinning", "pinned", "failed"])).optional(),
        cid: z.array(cidArg).max(10).optional(),
        name: z.string().max(255).optional(),
        limit: z.number().int().min(1).max(1000).optional(),
      }),
    },
    async (args) => {
      const q = new URLSearchParams();
      if (args.status) q.set("status", args.status.join(","));
      if (args.cid) q.set("cid", args.cid.join(","));
      if (args.name !== undefined) q.set("name", args.name);
      if (args.limit !== undefined) q.set("limit", String(args.limit));
      const res = await ctx.call(`/psa/pins?${q}`);
      return res.ok ? ok((await res.json()) as Record<string, unknown>) : failFrom(res, "list_pins");
    },
  );

  server.registerTool(
    "unpin",
    { description: "Remove a pin of this account.", inputSchema: z.object({ requestid: requestIdArg }), annotations: { destructiveHint: true } },
    async ({ requestid }) => {
      const res = await ctx.call(`/psa/pins/${encodeURIComponent(requestid)}`, { method: "DELETE" });
      return res.status === 202 ? ok({ requestid, removed: true }) : failFrom(res, "unpin");
    },
  );

  server.registerTool(
    "fetch_content",
    {
      description:
        "Fetch content by CID and optional path through this gateway: every block is hash-verified before use. " +
        "Answers text when the bytes are UTF-8 text, else base64; refuses content larger than maxBytes.",
      inputSchema: z.object({
        cid: cidArg,
        path: z.string().max(4096).optional().describe("a path inside the DAG, e.g. docs/readme.md"),
        maxBytes: z.number().int().min(1).max(FETCH_MAX_BYTES).optional().describe(`at most ${FETCH_MAX_BYTES} (default ${FETCH_DEFAULT_BYTES})`),
        encoding: z.enum(["auto", "text", "base64"]).optional(),
      }),
      annotations: { readOnlyHint: true },
    },
    async ({ cid, path, maxBytes = FETCH_DEFAULT_BYTES, encoding = "auto" }) => {
      const segments = (path ?? "").split("/").filter((s) => s !== "").map(encodeURIComponent);
      const res = await ctx.call(`/ipfs/${encodeURIComponent(cid)}${segments.length ? "/" + segments.join("/") : ""}`);
      if (!res.ok) return failFrom(res, "fetch_content");
      const bytes = await readUpTo(res, maxBytes);
      if (bytes === undefined) return fail(`fetch_content: the content is larger than maxBytes (${maxBytes} bytes)`);
      const contentType = res.headers.get("Content-Type") ?? "application/octet-stream";
      const text = encoding === "base64" ? undefined : utf8(bytes);
      if (encoding === "text" && text === undefined) return fail("fetch_content: the content is not UTF-8 text (ask for base64)");
      return ok({
        cid, path: path ?? "", contentType, size: bytes.length, etag: res.headers.get("ETag"),
        ...(text !== undefined ? { encoding: "text", text } : { encoding: "base64", base64: base64(bytes) }),
      });
    },
  );

  server.registerTool(
    "car_verify",
    {
      description: "Verify a CARv1: hash every block against its CID. Give the CAR as an http(s) URL or as base64; at most maxBytes are read.",
      inputSchema: z.object({
        url: z.string().url().max(2048).optional(),
        base64: z.string().max(6 * 1024 * 1024).optional(),
        maxBytes: z.number().int().min(1).max(CAR_MAX_BYTES).optional().describe(`at most ${CAR_MAX_BYTES} (default ${CAR_DEFAULT_BYTES})`),
      }),
      annotations: { readOnlyHint: true },
    },
    async ({ url, base64: b64, maxBytes = CAR_DEFAULT_BYTES }) => {
      if ((url === undefined) === (b64 === undefined)) return fail("car_verify: give exactly one of url or base64");
      let body: ReadableStream<Uint8Array>;
      if (url !== undefined) {
        if (!/^https?:\/\//i.test(url)) return fail("car_verify: url must be http or https");
        let res: Response;
        try {
          res = await ctx.fetchRemote(url, AbortSignal.timeout(CAR_FETCH_TIMEOUT_MS));
        } catch (err) {
          return fail(`car_verify: could not fetch the CAR: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (!res.ok || res.body === null) {
          await res.body?.cancel();
          return fail(`car_verify: fetching the CAR answered HTTP ${res.status}`);
        }
        body = res.body;
      } else {
        const bytes = fromBase64(b64!);
        if (bytes === undefined) return fail("car_verify: base64 is not valid base64");
        body = new Blob([bytes]).stream();
      }
      const report = await verifyCar(body, maxBytes);
      return ok({ ...report });
    },
  );

  server.registerTool(
    "gateway_health",
    {
      description: "Upstream gateways of a region (default: this one) with their health: rank, circuit, success and TTFB averages, last probe.",
      inputSchema: z.object({ region: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional() }),
      annotations: { readOnlyHint: true },
    },
    async ({ region }) => {
      const res = await ctx.call(`/api/v1/health/gateways${region ? `?region=${region}` : ""}`);
      return res.ok ? ok((await res.json()) as Record<string, unknown>) : failFrom(res, "gateway_health");
    },
  );

  server.registerTool(
    "find_providers",
    {
      description: "HTTP gateway providers of a CID found through delegated routing (IPNI).",
      inputSchema: z.object({ cid: cidArg }),
      annotations: { readOnlyHint: true },
    },
    async ({ cid }) => {
      const res = await ctx.call(`/api/v1/providers/${encodeURIComponent(cid)}`);
      return res.ok ? ok((await res.json()) as Record<string, unknown>) : failFrom(res, "find_providers");
    },
  );
}

/** The whole body if it is at most `max` bytes, else undefined (the rest cancelled). */
async function readUpTo(res: Response, max: number): Promise<Uint8Array | undefined> {
  return readBounded(res, max);
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: string): Uint8Array | undefined {
  try {
    const bin = atob(s.replace(/\s+/g, ""));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}
