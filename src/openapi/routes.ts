/**
 * `GET /api/v1/openapi.json` (the OpenAPI document, src/openapi/document.ts)
 * and `GET /api/docs` (+ `/api/docs/style.css`): its reference page. No auth:
 * the contract is public; nothing in it is a secret.
 */
import { Hono } from "hono";
import { openApiDocument } from "./document";
import { REFERENCE_CSS, renderReferencePage } from "./reference-page";

export const openApiRoutes = new Hono<{ Bindings: Env }>();

openApiRoutes.get("/api/v1/openapi.json", (c) => {
  c.header("Cache-Control", "public, max-age=300");
  c.header("Access-Control-Allow-Origin", "*");
  return c.json(openApiDocument(new URL(c.req.url).origin));
});

openApiRoutes.get("/api/docs", (c) => {
  c.header("Cache-Control", "public, max-age=300");
  c.header("Content-Security-Policy", "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'");
  return c.html(renderReferencePage(openApiDocument(new URL(c.req.url).origin)));
});

openApiRoutes.get("/api/docs/style.css", (c) => {
  c.header("Cache-Control", "public, max-age=3600");
  return c.body(REFERENCE_CSS, 200, { "Content-Type": "text/css; charset=utf-8" });
});
