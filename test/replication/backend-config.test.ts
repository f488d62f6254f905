import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { backendConfigs, secretName } from "../../src/backends/backend-config";
import { loadBackend } from "../../src/backends/backend-registry";
import { gatewayMultiaddr } from "../../src/backends/psa/gateway-multiaddr";
import { psaFailure, retryAfterMs } from "../../src/backends/psa/psa-http";
import { BackendError } from "../../src/backends/replication-backend";
import { originUrl } from "../../src/pinning/origins";

const withBackends = (value: string): Env => ({ ...env, BACKENDS: value });

describe("BACKENDS and the backend registry", () => {
  it("parses named backends, always has r2, names secrets BACKEND_<NAME>_<FIELD>", () => {
    const configs = backendConfigs(withBackends(JSON.stringify({ "my-pinata": { type: "psa", endpoint: "https://x.example/psa" } })));
    expect([...configs.values()]).toEqual([
      { name: "r2", type: "r2", settings: {} },
      { name: "my-pinata", type: "psa", settings: { endpoint: "https://x.example/psa" } },
    ]);
    expect(secretName("my-pinata", "token")).toBe("BACKEND_MY_PINATA_TOKEN");
  });

  it("rejects malformed configuration with the reason", () => {
    expect(() => backendConfigs(withBackends("{"))).toThrow("BACKENDS: not valid JSON");
    expect(() => backendConfigs(withBackends('{"Bad Name":{"type":"psa"}}'))).toThrow('BACKENDS: backend name "Bad Name" must match');
    expect(() => backendConfigs(withBackends('{"x":{"type":"ftp"}}'))).toThrow('BACKENDS: backend "x" has unknown type "ftp" (one of r2, psa, s3, kubo, hf, filecoin)');
  });

  it("loadBackend: unknown names and unusable settings are permanent BackendErrors; a secret never comes from the JSON", async () => {
    const bad = withBackends(JSON.stringify({ p: { type: "psa", endpoint: "ftp://nope" } }));
    await expect(loadBackend(bad, "nope")).rejects.toEqual(new BackendError("permanent", 'no backend named "nope" is configured'));
    await expect(loadBackend(bad, "p")).rejects.toEqual(new BackendError("permanent", 'backend "p": settings.endpoint must be the service\'s http(s) base URL'));
    const noSecret = withBackends(JSON.stringify({ q: { type: "psa", endpoint: "http://127.0.0.1:9", token: "in-json" } }));
    const backend = await loadBackend(noSecret, "q");
    const report = await backend.test();
    expect(report).toMatchObject({ reachable: false, authorised: false, roundTrip: false, message: "secret BACKEND_Q_TOKEN is not set" });
  });
});

describe("PSA HTTP details", () => {
  it("Retry-After: seconds or an HTTP date, clamped to one hour", () => {
    expect(retryAfterMs("7")).toBe(7000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(retryAfterMs("999999")).toBe(3_600_000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it("maps statuses to BackendError kinds (403 like 401; 503 with Retry-After is rate limiting)", async () => {
    const res = (status: number, body = "", headers: Record<string, string> = {}) => new Response(body, { status, headers });
    expect(await psaFailure(res(403, '{"error":{"reason":"FORBIDDEN","details":"bad key"}}'), "GET /pins")).toEqual(new BackendError("unauthorized", "GET /pins: HTTP 403 FORBIDDEN: bad key"));
    expect(await psaFailure(res(429, "", { "Retry-After": "3" }), "POST /pins")).toEqual(new BackendError("rate_limited", "POST /pins: HTTP 429", 3000));
    expect(await psaFailure(res(503, "busy", { "Retry-After": "2" }), "x")).toEqual(new BackendError("rate_limited", "x: HTTP 503 busy", 2000));
    expect((await psaFailure(res(502, "<html>bad gateway</html>"), "x")).kind).toBe("retryable");
    expect((await psaFailure(res(400, '{"error":{"reason":"BAD_REQUEST"}}'), "x"))).toEqual(new BackendError("permanent", "x: HTTP 400 BAD_REQUEST"));
  });

  it("our gateway as an origin multiaddr that src/pinning/origins.ts reads back", () => {
    for (const [url, ma] of [
      ["https://edge.example", "/dns4/edge.example/tcp/443/https"],
      ["http://127.0.0.1:8787", "/ip4/127.0.0.1/tcp/8787/http"],
      ["https://edge.example/base", "/dns4/edge.example/tcp/443/https/http-path/%2Fbase"],
    ] as const) {
      expect(gatewayMultiaddr(url)).toBe(ma);
      // The parser reads each one back; allowPrivate because the loopback one is refused as an origin by default (next test).
      expect(originUrl(ma, true)).toBe(url);
    }
  });

  it("a gateway on a private address is written the same, but origins.ts refuses it as a pin origin unless the caller vouches for it", () => {
    // Issue 7's guard: origins come from whoever holds a token, so loopback/private ones are ignored (no fetches inside a network).
    expect(originUrl("/dns4/edge.example/tcp/443/https")).toBe("https://edge.example");
    for (const url of ["http://127.0.0.1:8787", "http://10.0.0.5:8080", "http://192.168.1.2"]) {
      expect(originUrl(gatewayMultiaddr(url))).toBeNull();
      expect(originUrl(gatewayMultiaddr(url), true)).toBe(url);
    }
    expect(originUrl("/ip4/127.0.0.1/tcp/8787/http")).toBeNull();
    expect(originUrl("/dns4/edge.example/tcp/443/https")).toBe("https://edge.example");
  });
});
