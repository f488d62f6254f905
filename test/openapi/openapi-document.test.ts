/**
 * The OpenAPI document (src/openapi/document.ts): valid OpenAPI 3.1 (the
 * official 3.1 schema, checked with @cfworker/json-schema, a JSON Schema
 * 2020-12 validator that runs in workerd), every $ref resolves, and every
 * route mounted in src/worker.ts (read from the Hono app itself) is in it.
 */
import { Validator } from "@cfworker/json-schema";
import oas31 from "@seriousme/openapi-schema-validator/schemas/v3.1/schema.json";
import { describe, expect, it } from "vitest";
import { app } from "../../src/worker";
import { call } from "../pinning/helpers";

type Doc = { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };

async function fetchDoc(): Promise<Doc> {
  const res = await call("GET", "/api/v1/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("application/json");
  return (await res.json()) as Doc;
}

function validate(doc: unknown) {
  return new Validator(oas31 as object, "2020-12", false).validate(doc);
}

/** Hono `:param` → OpenAPI `{param}`. */
/** Routes written with a parameter only so that Hono's RegExpRouter holds them (test/http/router.test.ts): the one path each serves. */
const SERVES: Record<string, string> = { "/api/v1/backends/:name": "/api/v1/backends/verify" };
const openApiPath = (path: string) => SERVES[path] ?? path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

describe("GET /api/v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document (and the validator rejects a broken one)", async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toBe("3.1.0");
    const result = validate(doc);
    expect(result.errors.slice(0, 3)).toEqual([]);
    expect(result.valid).toBe(true);
    const { info: _, ...noInfo } = doc as unknown as Record<string, unknown>;
    expect(validate(noInfo).valid).toBe(false);
    expect(validate({ ...doc, paths: { "/x": { get: { responses: { "200": { content: {} } } } } } }).valid).toBe(false);
  });

  it("every $ref points at a schema it defines", async () => {
    const doc = await fetchDoc();
    const refs = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) k === "$ref" ? refs.add(x as string) : walk(x);
      }
    };
    walk(doc);
    expect(refs.size).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.slice("#/components/schemas/".length)], ref).toBeDefined();
    }
  });

  it("describes every route the app mounts (read from the app, so a new route without its entry fails here)", async () => {
    const doc = await fetchDoc();
    const described = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => ({ path, method: m.toUpperCase() })));
    const missing: string[] = [];
    for (const { method, path } of app.routes) {
      if (path === "/*" || path === "*") continue; // middleware on every path (metrics, origins)
      const star = path.indexOf("*");
      const ok =
        star >= 0
          ? // A wildcard: middleware or a fallback under a prefix, or the gateway's /ipfs/*: some described path under it, with the method.
            described.some((d) => d.path.startsWith(path.slice(0, star)) && (method === "ALL" || d.method === method))
          : described.some((d) => d.path === openApiPath(path) && (method === "ALL" || d.method === method));
      if (!ok) missing.push(`${method} ${path}`);
    }
    expect(missing).toEqual([]);
    // And the document names nothing the app does not serve (the gateway's /ipns/ is served by the origin middleware).
    const mounted = app.routes.map((r) => openApiPath(r.path));
    const phantom = Object.keys(doc.paths).filter((p) => p !== "/ipns/{name}" && !mounted.some((m) => m === p || (m.includes("*") && p.startsWith(m.slice(0, m.indexOf("*"))))));
    expect(phantom).toEqual([]);
  });
});

describe("GET /api/docs", () => {
  it("renders every operation on one page whose only asset is served by the worker", async () => {
    const res = await call("GET", "/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    expect(res.headers.get("Content-Security-Policy")).toBe("default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'");
    const html = await res.text();
    const doc = await fetchDoc();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) expect(html).toContain(`<span class="m ${method}">${method}</span> <code>${path}</code>`);
    }
    expect(html).not.toMatch(/<script|(src|href)="(https?:)?\/\//);
    expect([...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1])).toEqual(["/api/docs/style.css", "/api/v1/openapi.json"]);
    const css = await call("GET", "/api/docs/style.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    expect(await css.text()).toContain("body{");
  });
});
