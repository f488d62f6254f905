/**
 * Structured logs (src/observability/log.ts): one JSON line per request
 * and per pin outcome, with route patterns, status, CID, duration, bytes,
 * and never a token, a secret or a raw path.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { DEFAULT_LOG_SAMPLE, logLine, logSample } from "../../src/observability/log";
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

  it("REQUEST_LOG_SAMPLE: a share from 0 to 1; unset or malformed is one in a hundred", () => {
    expect([logSample("0"), logSample("0.25"), logSample("1")]).toEqual([0, 0.25, 1]);
    expect([logSample(undefined), logSample(""), logSample("all"), logSample("2"), logSample("-0.1")]).toEqual(Array(5).fill(DEFAULT_LOG_SAMPLE));
    expect(DEFAULT_LOG_SAMPLE).toBe(0.01);
  });

  it("sampled out: a success writes no request or upstream line; a failure still writes both", async () => {
    const bytes = pseudoRandomBytes(5_000, 13);
    const file = await importFile(bytes, { chunkSize: 65536 });
    const ok = withUpstreams([uniquePersonality("honest")], { REQUEST_LOG_SAMPLE: "0" });
    const served = await ok.fetch(`/ipfs/${file.cid}?format=raw`);
    expect(served.status).toBe(200);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    await ok.settle();
    expect(lines().filter((l) => l.cid === file.cid.toString() || l.upstream === ok.upstreams)).toEqual([]);

    // Another CID: the first is in the edge cache now.
    const missing = await importFile(pseudoRandomBytes(5_000, 14), { chunkSize: 65536 });
    const failing = withUpstreams([uniquePersonality("status-500")], { REQUEST_LOG_SAMPLE: "0" });
    const refused = await failing.fetch(`/ipfs/${missing.cid}?format=raw`);
    expect(refused.status).toBe(502);
    await refused.arrayBuffer();
    await failing.settle();
    expect(lines().find((l) => l.kind === "request" && l.cid === missing.cid.toString())).toMatchObject({ route: "gateway", status: 502 });
    expect(lines().filter((l) => l.kind === "upstream" && l.upstream === failing.upstreams).map((l) => l.event)).toEqual(["error"]);
  });
});
