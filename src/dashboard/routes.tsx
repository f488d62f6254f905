/**
 * The operator web UI at `/dashboard` (docs/dashboard.md): server-rendered
 * with `hono/jsx`, every asset served from here (stylesheet, htmx and its
 * licence), working without JavaScript; htmx adds the live pin table.
 *
 * Order: assets and the sign-in page need no session; everything after the
 * session middleware does; every POST passes the Origin and CSRF checks
 * before any handler runs (session.ts).
 */
import { Hono } from "hono";
import type { Context, ExecutionContext as HonoExecutionContext } from "hono";
import { errorResponse } from "../http/error-response";
import { HttpError } from "../http/errors";
import { DASHBOARD_CSS } from "./assets/dashboard-css";
import { HTMX_LICENSE, HTMX_MIN_JS } from "./assets/htmx";
import { contentPanel } from "./content-panel";
import type { DashboardEnv } from "./dashboard-env";
import { field } from "./dashboard-env";
import { gatewaysPanel } from "./gateways-panel";
import { Alert, Page } from "./layout";
import { MAX_FORM_UPLOAD_BYTES, pinsPanel, uploadForm } from "./pins-panel";
import { clearedCookie, csrfMatches, currentSession, sameOrigin, sessionCookie, sessionFor, type Session } from "./session";
import { usagePanel } from "./usage-panel";

type Dispatch = (request: Request, env: Env, ctx: HonoExecutionContext) => Response | Promise<Response>;

/** Form bodies other than uploads are small. */
const MAX_FORM_BYTES = 64 * 1024;

/**
 * Content-Security-Policy of every dashboard response: scripts and styles
 * from this origin only (htmx is served here), no inline script, forms post
 * only here, never framed.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The dashboard app; `dispatch` sends a request through the whole worker (the verified fetch test). */
export function dashboardRoutes(dispatch: Dispatch) {
  const app = new Hono<DashboardEnv>();

  app.onError((err, c) => {
    // Our bugs: the one error-to-response function (logged, generic 500).
    if (!(err instanceof HttpError)) return errorResponse(err, c.req.raw);
    return c.html(
      <Page title="Error" session={null}>
        <h2>{err.status === 404 ? "Not found" : "Request refused"}</h2>
        <Alert>{err.message}</Alert>
        <p>
          <a href="/dashboard">Back to the dashboard</a>
        </p>
      </Page>,
      err.status as 400,
      err.headers,
    );
  });

  app.use("*", async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    // Not no-referrer: browsers then send `Origin: null` on form POSTs (Fetch §3.2.5), which sameOrigin() refuses.
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    if (!c.req.path.startsWith("/dashboard/assets/")) c.header("Cache-Control", "no-store");
  });

  app.get("/assets/htmx.min.js", (c) => asset(c, HTMX_MIN_JS, "text/javascript; charset=utf-8"));
  app.get("/assets/htmx.LICENSE.txt", (c) => asset(c, HTMX_LICENSE, "text/plain; charset=utf-8"));
  app.get("/assets/dashboard.css", (c) => asset(c, DASHBOARD_CSS, "text/css; charset=utf-8"));

  app.get("/sign-in", async (c) => {
    if ((await currentSession(c.env, c.req.raw)) !== null) return c.redirect("/dashboard/pins", 303);
    return c.html(<SignIn />);
  });

  app.post("/sign-in", async (c) => {
    if (!sameOrigin(c.req.raw)) return refuseCrossOrigin(c);
    const form = await readForm(c.req.raw, MAX_FORM_BYTES);
    const token = (field(form, "token") ?? "").trim();
    const session = await sessionFor(c.env, token);
    if (session === null) return c.html(<SignIn error="That token is not valid (unknown, revoked or mistyped)." />, 401);
    c.header("Set-Cookie", sessionCookie(token));
    return c.redirect("/dashboard/pins", 303);
  });

  // Everything below needs a session.
  app.use("*", async (c, next) => {
    const session = await currentSession(c.env, c.req.raw);
    if (session === null) {
      if (c.req.header("HX-Request") === "true") return c.body(null, 401, { "HX-Redirect": "/dashboard/sign-in" });
      if (c.req.method !== "GET" && c.req.method !== "HEAD") {
        return c.html(
          <Page title="Signed out" session={null}>
            <h2>Signed out</h2>
            <Alert>Your session has ended; nothing was changed. Sign in again.</Alert>
            <p>
              <a href="/dashboard/sign-in">Sign in</a>
            </p>
          </Page>,
          401,
        );
      }
      return c.redirect("/dashboard/sign-in", 303);
    }
    c.set("session", session);
    c.set("dispatch", (request) => Promise.resolve(dispatch(request, c.env, c.executionCtx)));
    if (c.req.method === "POST") {
      if (!sameOrigin(c.req.raw)) return refuseCrossOrigin(c);
      const max = c.req.path === "/dashboard/upload" ? MAX_FORM_UPLOAD_BYTES + MAX_FORM_BYTES : MAX_FORM_BYTES;
      const form = await readForm(c.req.raw, max);
      if (!csrfMatches(session, field(form, "csrf"))) return refuse(c, session, "The form's CSRF token is missing or does not match this session; reload the page and try again.");
      c.set("form", form);
    }
    await next();
  });

  app.get("/", (c) => c.redirect("/dashboard/pins", 303));
  app.post("/sign-out", (c) => {
    c.header("Set-Cookie", clearedCookie());
    return c.redirect("/dashboard/sign-in", 303);
  });
  app.route("/pins", pinsPanel);
  app.route("/upload", uploadForm);
  app.route("/gateways", gatewaysPanel);
  app.route("/content", contentPanel);
  app.route("/usage", usagePanel);
  return app;
}

function asset(c: Context, body: string, type: string) {
  return c.body(body, 200, { "Content-Type": type, "Cache-Control": "public, max-age=3600" });
}

/** A form body with a size cap (Content-Length required: browsers always send it for forms). */
async function readForm(request: Request, max: number): Promise<FormData> {
  const length = request.headers.get("Content-Length");
  if (length === null) throw new HttpError("bad_request", "a form body needs a Content-Length");
  if (!/^\d+$/.test(length) || Number(length) > max) throw new HttpError("payload_too_large", `the form is larger than ${max} bytes; upload large files with POST /api/v1/upload`);
  const type = request.headers.get("Content-Type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) throw new HttpError("bad_request", "expected a form body");
  try {
    return await request.formData();
  } catch {
    throw new HttpError("bad_request", "the form body could not be parsed");
  }
}

function refuseCrossOrigin(c: Context) {
  return c.html(
    <Page title="Refused" session={null}>
      <h2>Request refused</h2>
      <Alert>This form was not sent from the dashboard's own pages (Origin check), so nothing was changed.</Alert>
    </Page>,
    403,
  );
}

function refuse(c: Context, session: Session, message: string) {
  return c.html(
    <Page title="Refused" session={session}>
      <h2>Request refused</h2>
      <Alert>{message}</Alert>
    </Page>,
    403,
  );
}

function SignIn(props: { error?: string }) {
  return (
    <Page title="Sign in" session={null}>
      <h2>Sign in</h2>
      {props.error !== undefined && <Alert>{props.error}</Alert>}
      <section class="card">
        <form method="post" action="/dashboard/sign-in" class="inline">
          <label>
            API token, or the operator token
            <input type="password" name="token" required autocomplete="current-password" size={50} />
          </label>
          <button type="submit">Sign in</button>
        </form>
        <p class="muted">
          An API token (from POST /api/v1/tokens) shows its account; the operator's ADMIN_TOKEN shows the whole service. The token is kept in an HttpOnly
          cookie for 12 hours, never in a URL.
        </p>
      </section>
    </Page>
  );
}
