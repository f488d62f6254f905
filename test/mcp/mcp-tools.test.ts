/**
 * /mcp through the official MCP TypeScript client (@modelcontextprotocol/sdk
 * Client + StreamableHTTPClientTransport) whose fetch is the worker's own
 * fetch handler: list tools, call each, bad arguments, bad token, Origin.
 */
import { exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, inject, it, beforeAll } from "vitest";
import { CID } from "multiformats/cid";
import { encodeCar } from "../servers/car-encode";
import { ADMIN, identityCid, newAccount, settle } from "../pinning/helpers";
import { importFile, upstreamBase, uniquePersonality } from "../helpers/upstream";
import { pseudoRandomBytes } from "../helpers/pseudo-random";

const ORIGIN = "http://edge.test";

function transport(token: string | undefined, headers: Record<string, string> = {}) {
  return new StreamableHTTPClientTransport(new URL(`${ORIGIN}/mcp`), {
    requestInit: { headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } },
    fetch: (url, init) => exports.default.fetch(new Request(url, init)),
  });
}

async function connect(token: string | undefined): Promise<Client> {
  const client = new Client({ name: "ipfs-kit-edge-test", version: "1.0.0" });
  await client.connect(transport(token));
  return client;
}

type Result = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: Record<string, unknown> };
const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as Result;

const TOOLS = ["car_verify", "fetch_content", "find_providers", "gateway_health", "list_pins", "pin_content", "pin_status", "unpin"];

let account: string;
let token: string;
let client: Client;

beforeAll(async () => {
  ({ account, token } = await newAccount("mcp"));
  client = await connect(token);
});

describe("/mcp auth and Origin", () => {
  it("refuses a missing or unknown bearer token with 401 before any MCP exchange", async () => {
    for (const bad of [undefined, "not-a-token", "edge_acc_000000000000000000000000_forged"]) {
      const c = new Client({ name: "t", version: "1" });
      await expect(c.connect(transport(bad))).rejects.toMatchObject({ code: 401, message: expect.stringContaining("Access token is missing or invalid") });
    }
    const raw = await exports.default.fetch(new Request(`${ORIGIN}/mcp`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }));
    expect(raw.status).toBe(401);
    expect(raw.headers.get("WWW-Authenticate")).toBe("Bearer");
  });

  it("refuses a browser Origin that is not the worker's own with 403", async () => {
    const c = new Client({ name: "t", version: "1" });
    await expect(c.connect(transport(token, { Origin: "https://evil.example" }))).rejects.toMatchObject({ code: 403, message: expect.stringContaining("Origin not allowed for /mcp") });
    const same = new Client({ name: "t", version: "1" });
    await same.connect(transport(token, { Origin: ORIGIN }));
    expect((await same.listTools()).tools).toHaveLength(TOOLS.length);
  });
});

describe("/mcp tools", () => {
  it("lists the eight tools, each with a JSON Schema for its input", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    const pin = tools.find((t) => t.name === "pin_content")!;
    expect(pin.inputSchema.type).toBe("object");
    expect(pin.inputSchema.required).toEqual(["cid"]);
    expect(Object.keys(pin.inputSchema.properties ?? {}).sort()).toEqual(["cid", "meta", "name", "origins"]);
  });

  it("pin_content, pin_status, list_pins, unpin: the account's pins through the PSA routes", async () => {
    const cid = identityCid("mcp-pin").toString();
    const created = await call(client, "pin_content", { cid, name: "from-mcp", meta: { via: "mcp" } });
    expect(created.isError).toBeFalsy();
    const requestid = created.structuredContent!.requestid as string;
    expect(created.structuredContent!.pin).toEqual({ cid, name: "from-mcp", origins: [], meta: { via: "mcp" } });
    expect(JSON.parse(created.content[0]!.text)).toEqual(created.structuredContent);
    // PSA delegates name the client's origin, not an internal one.
    expect((created.structuredContent!.delegates as string[])[0]).toMatch(/^\/dns\/edge\.test\/tcp\/80\/http\/p2p\//);
    await settle(account);

    const status = await call(client, "pin_status", { requestid });
    expect(status.structuredContent).toMatchObject({ requestid, status: "pinned" });
    const listed = await call(client, "list_pins", { status: ["pinned"], name: "from-mcp" });
    expect(listed.structuredContent).toMatchObject({ count: 1 });
    expect((listed.structuredContent!.results as { requestid: string }[])[0]!.requestid).toBe(requestid);

    expect((await call(client, "unpin", { requestid })).structuredContent).toEqual({ requestid, removed: true });
    const gone = await call(client, "pin_status", { requestid });
    expect(gone.isError).toBe(true);
    expect(gone.content[0]!.text).toBe("pin_status failed (HTTP 404 NOT_FOUND): The specified resource was not found");
    expect((await call(client, "unpin", { requestid })).isError).toBe(true);
  });

  it("bad arguments: schema violations and invalid CIDs are tool errors, nothing is pinned", async () => {
    const wrongType = await call(client, "pin_content", { cid: 42 });
    expect(wrongType.isError).toBe(true);
    expect(wrongType.content[0]!.text).toMatch(/cid/);
    const missing = await call(client, "pin_status", {});
    expect(missing.isError).toBe(true);
    const notACid = await call(client, "pin_content", { cid: "not-a-cid" });
    expect(notACid.isError).toBe(true);
    expect(notACid.content[0]!.text).toMatch(/^pin_content failed \(HTTP 400 BAD_REQUEST\): /);
    const both = await call(client, "car_verify", { url: "http://127.0.0.1:1/x.car", base64: "AA==" });
    expect(both.content[0]!.text).toBe("car_verify: give exactly one of url or base64");
    const list = await call(client, "list_pins", {});
    expect((list.structuredContent!.results as { pin: { cid: string } }[]).some((r) => r.pin.cid === "not-a-cid")).toBe(false);
  });

  it("pin tools with the operator token are tool errors (no account)", async () => {
    const operator = await connect(ADMIN);
    const res = await call(operator, "pin_content", { cid: identityCid("op").toString() });
    expect(res.isError).toBe(true);
    expect(res.content[0]!.text).toMatch(/^pin_content failed \(HTTP 401 UNAUTHORIZED\)/);
    expect((await call(operator, "gateway_health", {})).isError).toBeFalsy();
  });

  it("fetch_content: verified bytes as text or base64, with a path, size-limited", async () => {
    const text = "hello from a verified DAG\n".repeat(100);
    const file = await importFile(new TextEncoder().encode(text), { chunkSize: 1024 });
    const got = await call(client, "fetch_content", { cid: file.cid.toString() });
    expect(got.structuredContent).toMatchObject({ encoding: "text", text, size: text.length });
    const binary = pseudoRandomBytes(3000, 5);
    const bin = await importFile(binary, { chunkSize: 1024 });
    const b = await call(client, "fetch_content", { cid: bin.cid.toString(), encoding: "base64" });
    expect(b.structuredContent!.encoding).toBe("base64");
    expect(Uint8Array.from(atob(b.structuredContent!.base64 as string), (c) => c.charCodeAt(0))).toEqual(binary);
    const tooBig = await call(client, "fetch_content", { cid: bin.cid.toString(), maxBytes: 2999 });
    expect(tooBig.isError).toBe(true);
    expect(tooBig.content[0]!.text).toBe("fetch_content: the content is larger than maxBytes (2999 bytes)");
    const inRaw = await call(client, "fetch_content", { cid: identityCid("hi").toString(), path: "no/such/path" });
    expect(inRaw.isError).toBe(true);
  });

  it("car_verify: a good CAR (base64 and URL), a corrupt one, a cut one", async () => {
    const file = await importFile(pseudoRandomBytes(5000, 6), { chunkSize: 1024 });
    const car = encodeCar([file.cid], file.blocks);
    const b64 = btoa(String.fromCharCode(...car));
    const good = await call(client, "car_verify", { base64: b64 });
    expect(good.structuredContent).toEqual({
      valid: true, roots: [file.cid.toString()], blocks: file.blocks.length,
      blockBytes: file.blocks.reduce((n, x) => n + x.bytes.length, 0), invalid: [], error: null,
    });
    const corrupt = car.slice();
    corrupt[corrupt.length - 10]! ^= 0xff; // inside the last block's data
    const bad = await call(client, "car_verify", { base64: btoa(String.fromCharCode(...corrupt)) });
    expect(bad.structuredContent).toMatchObject({ valid: false, blocks: file.blocks.length, error: null });
    expect((bad.structuredContent!.invalid as { cid: string }[]).map((i) => i.cid)).toEqual([file.blocks[file.blocks.length - 1]!.cid.toString()]);
    const cut = await call(client, "car_verify", { base64: b64, maxBytes: 2000 });
    expect(cut.structuredContent).toMatchObject({ valid: false });
    expect(cut.structuredContent!.error).toMatch(/^the CAR is larger than 2000 bytes/);
    const byUrl = await call(client, "car_verify", { url: `${upstreamBase()}/${uniquePersonality("honest")}/ipfs/${file.cid}?format=car` });
    expect(byUrl.structuredContent).toMatchObject({ valid: true, roots: [file.cid.toString()], blocks: file.blocks.length });
  });

  it("gateway_health and find_providers answer what the native API answers", async () => {
    const health = await call(client, "gateway_health", { region: "local" });
    expect(health.structuredContent).toMatchObject({ region: "local" });
    expect(Array.isArray(health.structuredContent!.upstreams)).toBe(true);
    const cid = CID.parse("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy").toString();
    const announced = await fetch(`${inject("ipniBase")}/__providers/${cid}`, {
      method: "PUT",
      body: JSON.stringify({ Providers: [{ Schema: "peer", ID: "12D3KooWMcp", Addrs: ["/dns4/gw.example/tcp/443/https"], Protocols: ["transport-ipfs-gateway-http"] }] }),
    });
    expect(announced.status).toBe(204);
    const found = await call(client, "find_providers", { cid });
    expect(found.isError).toBeFalsy();
    expect(found.structuredContent).toMatchObject({ cid, providers: [{ id: "12D3KooWMcp", url: "https://gw.example" }] });
    const bad = await call(client, "find_providers", { cid: "nope" });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toMatch(/^find_providers failed \(HTTP 400\)/);
  });
});
