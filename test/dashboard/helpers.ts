/**
 * Driving the dashboard as a browser would, through the worker's real fetch
 * (inside workerd): forms posted with the dashboard's Origin, the session
 * cookie sent back, the CSRF token read from the page.
 */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";

export const ORIGIN = "http://edge.test";
export const COOKIE = "__Host-ike-dashboard";

export interface DashRequest {
  cookie?: string;
  method?: string;
  /** Form fields (urlencoded) or a FormData (multipart). */
  form?: Record<string, string> | FormData;
  /** Origin header; default the dashboard's own; null sends none. */
  origin?: string | null;
  headers?: Record<string, string>;
}

export function dash(path: string, init: DashRequest = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.cookie !== undefined) headers.set("Cookie", `${COOKIE}=${init.cookie}`);
  let body: BodyInit | undefined;
  if (init.form instanceof FormData) body = init.form;
  else if (init.form !== undefined) body = new URLSearchParams(init.form);
  const method = init.method ?? (body === undefined ? "GET" : "POST");
  if (method === "POST" && init.origin !== null) headers.set("Origin", init.origin ?? ORIGIN);
  // A Request computes Content-Length for these bodies as a browser does.
  const request = new Request(ORIGIN + path, { method, headers, body, redirect: "manual" });
  return exports.default.fetch(request);
}

/** Signs in with `token` and returns the cookie value the worker set. */
export async function signIn(token: string): Promise<string> {
  const res = await dash("/dashboard/sign-in", { form: { token } });
  expect(res.status).toBe(303);
  const set = res.headers.get("Set-Cookie") ?? "";
  const match = new RegExp(`^${COOKIE}=([^;]*);`).exec(set);
  expect(match, set).not.toBeNull();
  return match![1]!;
}

/** The CSRF token in a dashboard page's forms. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([0-9a-f]{32})"/.exec(html);
  if (match === null) throw new Error("no CSRF token in the page");
  return match[1]!;
}

/** A signed-in GET: the page's HTML (status 200 expected). */
export async function page(cookie: string, path: string, status = 200): Promise<string> {
  const res = await dash(path, { cookie });
  const html = await res.text();
  expect(res.status, html.slice(0, 500)).toBe(status);
  return html;
}

/** The table row of a pin (by requestid) in a page, or undefined. */
export function rowOf(html: string, requestid: string): string | undefined {
  const at = html.indexOf(`data-requestid="${requestid}"`);
  if (at === -1) return undefined;
  return html.slice(html.lastIndexOf("<tr", at), html.indexOf("</tr>", at) + 5);
}
