import { env } from "cloudflare:workers";
import { CID } from "multiformats/cid";
import { describe, expect, it } from "vitest";
import { errorForStatus, retryAfterMs } from "../../src/backends/backend-http";
import { carHeaderMismatch } from "../../src/backends/car-header-check";
import { create as createHf } from "../../src/backends/hf/hf-backend";
import { create as createKubo } from "../../src/backends/kubo/kubo-backend";
import { authorizationHeader } from "../../src/backends/kubo/kubo-rpc";
import { create as createS3 } from "../../src/backends/s3/s3-backend";
import type { BackendFactory, Json } from "../../src/backends/replication-backend";
import { carHeader } from "../servers/car-encode";

const ROOT = CID.parse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
const OTHER = CID.parse("bafkqabtimvwgy3yk");

describe("backend-http: one status → BackendError kind table", () => {
  it("Retry-After as seconds or an HTTP-date; absent or unreadable → undefined", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Sun, 29 Nov 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Sun, 29 Nov 2026 11:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs("soon", now)).toBeUndefined();
  });

  it("maps statuses", () => {
    const kind = (status: number, headers: Record<string, string> = {}) => {
      const error = errorForStatus("op", new Response(null, { status, headers }), "why");
      return [error.kind, error.retryAfterMs, error.message];
    };
    expect(kind(429)).toEqual(["rate_limited", 60_000, "op: HTTP 429: why"]);
    expect(kind(429, { "Retry-After": "5" })).toEqual(["rate_limited", 5000, "op: HTTP 429: why"]);
    expect(kind(503, { "Retry-After": "5" })).toEqual(["rate_limited", 5000, "op: HTTP 503: why"]);
    expect(kind(503)).toEqual(["retryable", undefined, "op: HTTP 503: why"]);
    expect(kind(500)).toEqual(["retryable", undefined, "op: HTTP 500: why"]);
    expect(kind(408)).toEqual(["retryable", undefined, "op: HTTP 408: why"]);
    expect(kind(401)).toEqual(["unauthorized", undefined, "op: HTTP 401: why"]);
    expect(kind(403)).toEqual(["unauthorized", undefined, "op: HTTP 403: why"]);
    expect(kind(404)).toEqual(["permanent", undefined, "op: HTTP 404: why"]);
    expect(kind(413)).toEqual(["permanent", undefined, "op: HTTP 413: why"]);
  });
});

describe("car-header-check", () => {
  it("accepts the one-root header of the root, rejects another root, garbage and a cut header", () => {
    const header = carHeader([ROOT]);
    expect(carHeaderMismatch(header, ROOT)).toBeUndefined();
    expect(carHeaderMismatch(header, OTHER)).toBe("the CAR header of the copy names another root");
    expect(carHeaderMismatch(header.subarray(0, 20), ROOT)).toBe("the copy does not start with a complete CAR header");
    expect(carHeaderMismatch(Uint8Array.of(3, 0xff, 0xff, 0xff), ROOT)).toBe("the CAR header of the copy is not valid dag-cbor");
    expect(carHeaderMismatch(new TextEncoder().encode("not a car at all"), ROOT)).toBe("the copy does not start with a complete CAR header");
    expect(carHeaderMismatch(carHeader([ROOT, OTHER]), ROOT)).toBe("the copy is not a one-root CARv1");
  });
});

describe("Kubo AuthSecret → Authorization header", () => {
  it("bearer:, basic:, and no prefix (bearer)", () => {
    expect(authorizationHeader("bearer:tok")).toBe("Bearer tok");
    expect(authorizationHeader("basic:alice:pa:ss")).toBe(`Basic ${btoa("alice:pa:ss")}`);
    expect(authorizationHeader("tok")).toBe("Bearer tok");
  });
});

describe("factories refuse bad settings with a permanent error naming the setting, never a secret", () => {
  const build = async (factory: BackendFactory, settings: { [key: string]: Json }) => {
    try {
      await factory({ name: "b", settings, secret: () => "s3cr3t", env });
      return "built";
    } catch (err) {
      const e = err as { kind: string; message: string };
      return `${e.kind}: ${e.message}`;
    }
  };

  it("S3, Kubo, Hub", async () => {
    expect(await build(createS3, { type: "s3", bucket: "x" })).toBe('permanent: backend b: setting "endpoint" must be a non-empty string');
    expect(await build(createS3, { type: "s3", endpoint: "ftp://x", bucket: "x" })).toBe('permanent: backend b: setting "endpoint" must be an http(s) URL');
    expect(await build(createS3, { type: "s3", endpoint: "https://key:secret@x", bucket: "x" })).toBe(
      'permanent: backend b: setting "endpoint" must not carry a query or credentials (use secrets)',
    );
    expect(await build(createS3, { type: "s3", endpoint: "https://x", bucket: "x", partSizeBytes: 1024 })).toBe(
      'permanent: backend b: setting "partSizeBytes" must be an integer in [5242880, 5368709120]',
    );
    expect(await build(createS3, { type: "s3", endpoint: "https://x", bucket: "x" })).toBe("built");
    const publicS3 = await createS3({ name: "b", settings: { type: "s3", endpoint: "https://x", bucket: "x", publicUrl: "https://cdn.example/" }, secret: () => "s", env });
    expect(publicS3.retrievalUrls({ backend: "b", remoteId: "ipfs/bafy.car", details: {} })).toEqual(["https://cdn.example/ipfs/bafy.car"]);
    const privateS3 = await createS3({ name: "b", settings: { type: "s3", endpoint: "https://x", bucket: "x" }, secret: () => "s", env });
    expect(privateS3.retrievalUrls({ backend: "b", remoteId: "ipfs/bafy.car", details: {} })).toEqual([]);
    expect(await build(createKubo, { type: "kubo", url: "not a url" })).toBe('permanent: backend b: setting "url" is not a URL');
    expect(await build(createKubo, { type: "kubo", url: "http://127.0.0.1:5001" })).toBe("built");
    expect(await build(createHf, { type: "hf", repo: "no-slash" })).toBe('permanent: backend b: setting "repo" must be "owner/dataset"');
    expect(await build(createHf, { type: "hf", repo: "me/pins" })).toBe("built");
  });
});
