/**
 * Dashboard sign-in, cookie, Origin and CSRF checks (src/dashboard/session.ts,
 * src/dashboard/routes.tsx): exact statuses, headers and what was (not) changed.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { HTMX_MIN_JS } from "../../src/dashboard/assets/htmx";
import { ADMIN, call, identityCid, newAccount } from "../pinning/helpers";
import { COOKIE, csrfOf, dash, page, signIn } from "./helpers";

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async function pinCount(account: string): Promise<number> {
  return (await registryStub(env, account).listPins({ match: "exact", status: ["queued", "pinning", "pinned", "failed"], limit: 1000 })).count;
}

describe("dashboard sign-in", () => {
  it("without a session every panel redirects to the sign-in page, which has a labelled token field", async () => {
    for (const panel of ["/dashboard", "/dashboard/pins", "/dashboard/gateways", "/dashboard/content", "/dashboard/usage"]) {
      const res = await dash(panel);
      expect(res.status, panel).toBe(303);
      expect(res.headers.get("Location")).toBe("/dashboard/sign-in");
    }
    const res = await dash("/dashboard/sign-in");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    expect(res.headers.get("Content-Security-Policy")).toBe(CSP);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    const html = await res.text();
    expect(html).toContain('<form method="post" action="/dashboard/sign-in"');
    expect(html).toMatch(/<label>API token, or the operator token<input type="password" name="token" required=""/);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<script src="/dashboard/assets/htmx.min.js" defer=""></script>');
  });

  it("an API token opens the account view: the cookie carries exactly HttpOnly, Secure, SameSite=Strict, Path=/, 12 h", async () => {
    const { token, account } = await newAccount("dash-auth");
    const res = await dash("/dashboard/sign-in", { form: { token } });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/dashboard/pins");
    expect(res.headers.get("Set-Cookie")).toBe(`${COOKIE}=${token}; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Strict`);
    const html = await page(token, "/dashboard/pins");
    expect(html).toContain(`Account ${account}`);
    expect(html).not.toContain("Operator (service view)");
    // The token itself never appears in the page (only the CSRF token derived from it).
    expect(html).not.toContain(token);
  });

  it("the operator token opens the service view", async () => {
    const cookie = await signIn(ADMIN);
    const html = await page(cookie, "/dashboard/pins");
    expect(html).toContain("Operator (service view)");
    expect(html).toContain('<select name="account">');
  });

  it("a wrong token is 401 with the form again and no cookie", async () => {
    for (const token of ["ike_000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "nope", "", "x".repeat(2000)]) {
      const res = await dash("/dashboard/sign-in", { form: { token } });
      expect(res.status).toBe(401);
      expect(res.headers.get("Set-Cookie")).toBeNull();
      expect(await res.text()).toContain("That token is not valid");
    }
  });

  it("a sign-in posted from another origin, or with no Origin, is refused with 403 and sets no cookie", async () => {
    const { token } = await newAccount("dash-origin");
    for (const origin of ["http://evil.test", "http://bafkqaaa.ipfs.edge.test", "null", null]) {
      const res = await dash("/dashboard/sign-in", { form: { token }, origin });
      expect(res.status, String(origin)).toBe(403);
      expect(res.headers.get("Set-Cookie")).toBeNull();
      expect(await res.text()).toContain("Origin check");
    }
  });

  it("a revoked token's cookie no longer opens anything", async () => {
    const { token, id } = await newAccount("dash-revoke");
    expect((await dash("/dashboard/pins", { cookie: token })).status).toBe(200);
    expect((await call("DELETE", `/api/v1/tokens/${id}`, { token: ADMIN })).status).toBe(204);
    const res = await dash("/dashboard/pins", { cookie: token });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/dashboard/sign-in");
    // htmx polling gets a 401 that tells htmx where to go.
    const polled = await dash("/dashboard/pins/table", { cookie: token, headers: { "HX-Request": "true" } });
    expect(polled.status).toBe(401);
    expect(polled.headers.get("HX-Redirect")).toBe("/dashboard/sign-in");
  });

  it("sign-out clears the cookie with the same attributes", async () => {
    const { token } = await newAccount("dash-out");
    const csrf = csrfOf(await page(token, "/dashboard/pins"));
    const res = await dash("/dashboard/sign-out", { cookie: token, form: { csrf } });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/dashboard/sign-in");
    expect(res.headers.get("Set-Cookie")).toBe(`${COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict`);
  });
});

describe("dashboard CSRF", () => {
  it("a form without the session's CSRF token, with another session's, or from another origin changes nothing", async () => {
    const { token, account } = await newAccount("dash-csrf");
    const other = await newAccount("dash-csrf-other");
    const csrf = csrfOf(await page(token, "/dashboard/pins"));
    const otherCsrf = csrfOf(await page(other.token, "/dashboard/pins"));
    expect(otherCsrf).not.toBe(csrf);
    const cid = identityCid("csrf").toString();

    const missing = await dash("/dashboard/pins", { cookie: token, form: { cid } });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain("CSRF token is missing or does not match");
    expect((await dash("/dashboard/pins", { cookie: token, form: { cid, csrf: otherCsrf } })).status).toBe(403);
    // A content site of this gateway is same-site (SameSite=Strict lets the cookie through): the Origin check stops it.
    const fromSite = await dash("/dashboard/pins", { cookie: token, form: { cid, csrf }, origin: "http://bafkqaaa.ipfs.edge.test" });
    expect(fromSite.status).toBe(403);
    expect((await dash("/dashboard/pins", { cookie: token, form: { cid, csrf }, origin: null })).status).toBe(403);
    expect(await pinCount(account)).toBe(0);

    // The same form, right token and origin: the pin exists.
    const ok = await dash("/dashboard/pins", { cookie: token, form: { cid, csrf } });
    expect(ok.status).toBe(303);
    expect(await pinCount(account)).toBe(1);
  });

  it("a POST without a session changes nothing and says so", async () => {
    const res = await dash("/dashboard/pins", { form: { cid: identityCid("anon").toString(), csrf: "0".repeat(32) } });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("nothing was changed");
  });
});

describe("dashboard assets", () => {
  it("htmx, its licence and the stylesheet are served by the worker", async () => {
    const js = await dash("/dashboard/assets/htmx.min.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toBe(HTMX_MIN_JS);
    const license = await dash("/dashboard/assets/htmx.LICENSE.txt");
    expect(license.status).toBe(200);
    expect(await license.text()).toContain("Zero-Clause BSD");
    const css = await dash("/dashboard/assets/dashboard.css");
    expect(css.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    expect(await css.text()).toContain("@media (max-width: 40rem)");
  });
});
