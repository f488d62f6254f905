/**
 * Structured logs (src/observability/log.ts): one JSON line per request
 * and per pin outcome, with route patterns, status, CID, duration, bytes,
 * and never a token, a secret or a raw path.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { logLine } from "../../src/observability/log";
import { ADMIN, call, identityCid, newAccount, settle } from "../pinning/helpers";
import { importFile, withUpstreams, uniquePersonality } from "../helpers/upstream";
import { pseudoRandomBytes } from "../helpers/pseudo-random";

let spy: MockInstance<typeof console.log>;
const lines = () =>
  spy.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('{"ts":')).map((l) => JSON.parse(l) as Record<string, unknown>);

beforeEach(() => {
  spy = vi.spyOn(console, "log");
});
afterEach(() => spy.mockRestore());

async function until<T>(find: () => T | undefined): Promise<T> {
  for (let i = 0; i < 50; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("log line never came");
}

describe("structured logs", () => {
  it("logLine: one JSON object, undefined fields left out, long text cut", () => {
    const out: string[] = [];
    logLine({ kind: "pin", event: "failed", cid: "bafy", error: "x".repeat(400), account: undefined }, (l) => out.push(l));
    expect(out).toHaveLength(1);
    const parsed = JSON.parse(out[0]!) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(["ts", "kind", "event", "cid", "error"]);
    expect(parsed.error).toBe("x".repeat(300) + "…");
    expect(Number.isNaN(Date.parse(parsed.ts as string))).toBe(false);
  });

  it("a gateway request: route, status, cid, source, bytes, duration", async () => {
    const bytes = pseudoRandomBytes(70_000, 12);
    const file = await importFile(bytes, { chunkSize: 65536 });
    const honest = uniquePersonality("honest");
    const w = withUpstreams([honest]);
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    await res.arrayBuffer();
    await w.settle();
    const line = lines().find((l) => l.cid === file.cid.toString());
    expect(line).toMatchObject({ kind: "request", method: "GET", route: "gateway", status: 200, source: "upstream", region: "local" });
    expect(line!.bytes).toBe(file.blocks.reduce((n, b) => n + b.bytes.length, 0));
    expect(typeof line!.durationMs).toBe("number");
    // The upstream that served it, its own line.
    const upstream = lines().filter((l) => l.kind === "upstream" && l.upstream === w.upstreams);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]).toMatchObject({ event: "ok", bytes: line!.bytes, region: "local" });
    expect(typeof upstream[0]!.ttfbMs).toBe("number");
    expect(honest).toBe(w.upstreams.split("/").pop());
  });

  it("API requests log the route pattern, never the token or the ids in the path", async () => {
    const { token, account } = await newAccount("logs");
    const created = (await (await call("POST", "/psa/pins", { token, body: { cid: identityCid("logged").toString() } })).json()) as { requestid: string };
    await call("GET", `/psa/pins/${created.requestid}`, { token });
    const line = await until(() => lines().find((l) => l.route === "/psa/pins/:requestid"));
    expect(line).toMatchObject({ kind: "request", method: "GET", status: 200 });
    await settle(account);
    const pinned = await until(() => lines().find((l) => l.kind === "pin" && l.requestid === created.requestid));
    expect(pinned).toMatchObject({ event: "pinned", account, cid: identityCid("logged").toV1().toString() });
    const all = spy.mock.calls.map((c) => c.join(" ")).join("\n");
    expect(all).not.toContain(token);
    expect(all).not.toContain(ADMIN);
    expect(lines().filter((l) => l.kind === "request").every((l) => !String(l.route).includes(created.requestid))).toBe(true);
  });
});
