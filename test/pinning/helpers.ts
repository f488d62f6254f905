import { exports } from "cloudflare:workers";
import { expect } from "vitest";

export const ADMIN = "test-admin-token";
export const BASE = "http://edge.test";

/** Calls the worker's real fetch handler. */
export function call(method: string, path: string, init: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set("Authorization", `Bearer ${init.token}`);
  let body: BodyInit | undefined;
  if (init.body instanceof Uint8Array || typeof init.body === "string" || init.body instanceof ReadableStream) {
    body = init.body as BodyInit;
  } else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers.set("Content-Type", "application/json");
  }
  return exports.default.fetch(new Request(BASE + path, { method, headers, body, duplex: "half" } as RequestInit));
}

/** A new account with one token, minted through the operator API. */
export async function newAccount(name = "test"): Promise<{ token: string; account: string; id: string }> {
  const res = await call("POST", "/api/v1/tokens", { token: ADMIN, body: { name } });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; account: string; id: string };
}

export type PinStatusJson = {
  requestid: string;
  status: string;
  created: string;
  pin: { cid: string; name?: string; origins: string[]; meta: Record<string, string> };
  delegates: string[];
  info: Record<string, string>;
};

export async function pinJson(res: Response, status = 202): Promise<PinStatusJson> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as PinStatusJson;
}

/** Expects the PSA Failure body. */
export async function expectFailure(res: Response, status: number, reason: string): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
  const body = (await res.json()) as { error: { reason: string; details: string } };
  expect(body.error.reason).toBe(reason);
  expect(typeof body.error.details).toBe("string");
  return body.error.details;
}

import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { CID } from "multiformats/cid";
import { identity } from "multiformats/hashes/identity";
import { importer } from "ipfs-unixfs-importer";
import { R2BlockStore } from "../../src/backends/r2-block-store";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { pseudoRandomBytes } from "../helpers/pseudo-random";

export { pseudoRandomBytes };

/** A distinct identity CID (its bytes live in the CID: always "held", nothing to fetch). */
export function identityCid(text: string): CID {
  return CID.createV1(0x55, identity.digest(new TextEncoder().encode(text)));
}

/** Runs the account's PinRegistry alarm until no work is due (bounded). */
export async function settle(account: string, rounds = 50): Promise<void> {
  const stub = registryStub(env, account);
  for (let i = 0; i < rounds; i++) {
    const due = (await stub.pendingWork()).filter((w) => w.due_at <= Date.now());
    if (due.length === 0) return;
    await runDurableObjectAlarm(stub);
  }
}


/** Imports `bytes` with the UnixFS importer (CIDv1, raw leaves, chunks of `chunk` bytes); blocks in memory. */
export async function unixfsDag(bytes: Uint8Array, chunk = 1024): Promise<{ root: CID; blocks: { cid: CID; bytes: Uint8Array }[] }> {
  const { fixedSize } = await import("ipfs-unixfs-importer/chunker");
  const blocks = new Map<string, { cid: CID; bytes: Uint8Array }>();
  const store = {
    put: async (cid: { bytes: Uint8Array }, block: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>) => {
      const data = block instanceof Uint8Array ? block : await concat(block);
      const c = CID.decode(cid.bytes);
      blocks.set(c.toString(), { cid: c, bytes: data });
      return cid;
    },
  };
  let root: CID | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for await (const entry of importer([{ content: bytes }], store as any, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: chunk }) })) {
    root = CID.decode(entry.cid.bytes);
  }
  return { root: root!, blocks: [...blocks.values()] };
}

async function concat(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** Writes blocks straight into the R2 bucket (as an earlier upload would have). */
export async function putInR2(blocks: { cid: CID; bytes: Uint8Array }[]): Promise<void> {
  const store = new R2BlockStore(env.BLOCKS);
  for (const b of blocks) await store.put(b.cid, b.bytes);
}
