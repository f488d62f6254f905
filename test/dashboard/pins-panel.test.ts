/**
 * Pins panel (src/dashboard/pins-panel.tsx): the rows show the registry's
 * real pins; the forms pin, upload, unpin and retry; filters narrow the
 * list; live pins make the table poll, settled ones stop it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { isStuck, STUCK_AFTER_MS } from "../../src/dashboard/pins-panel";
import type { PinRecord } from "../../src/pinning/pin-types";
import { encodeCar } from "../servers/car-encode";
import { importFile } from "../helpers/upstream";
import { ADMIN, call, identityCid, newAccount, pseudoRandomBytes, settle } from "../pinning/helpers";
import { csrfOf, dash, page, rowOf, signIn } from "./helpers";

async function pins(account: string): Promise<PinRecord[]> {
  return (await registryStub(env, account).listPins({ match: "exact", status: ["queued", "pinning", "pinned", "failed"], limit: 1000 })).results;
}

describe("dashboard pins panel", () => {
  it("pin a CID: 303 back with a notice; the row shows status, name, CID, created; queued rows poll, pinned ones stop", async () => {
    const { token, account } = await newAccount("dash-pins");
    const file = await importFile(pseudoRandomBytes(300_000, 41), { chunkSize: 65_536 });
    const size = file.blocks.reduce((n, b) => n + b.bytes.length, 0);
    const csrf = csrfOf(await page(token, "/dashboard/pins"));

    const res = await dash("/dashboard/pins", { cookie: token, form: { csrf, cid: file.cid.toString(), name: "photo <1>" } });
    expect(res.status).toBe(303);
    const [pin] = await pins(account);
    expect(pin!.status).toBe("queued");
    expect(pin!.pin).toEqual({ cid: file.cid.toString(), name: "photo <1>", origins: [], meta: {} });
    expect(res.headers.get("Location")).toBe(`/dashboard/pins?pinned=${pin!.requestid}`);

    const html = await page(token, res.headers.get("Location")!);
    expect(html).toContain(`<p class="notice" role="status">Pin requested: ${pin!.requestid}.</p>`);
    const row = rowOf(html, pin!.requestid)!;
    expect(row).toContain('data-status="queued"');
    expect(row).toContain('<span class="status status-queued">queued</span>');
    expect(row).toContain('<td data-label="Name">photo &lt;1&gt;</td>');
    expect(row).toContain(`<td data-label="CID" class="cid">${file.cid}</td>`);
    expect(row).toContain(`<time datetime="${new Date(pin!.created).toISOString()}">`);
    expect(html).toContain('<div id="pins-table" hx-get="/dashboard/pins/table?" hx-trigger="every 2s" hx-swap="outerHTML" aria-live="polite">');
    expect(html).toContain("1 in progress, updating every 2 s");

    await settle(account);
    const table = await page(token, "/dashboard/pins/table");
    expect(table.startsWith('<div id="pins-table" aria-live="polite">')).toBe(true);
    expect(table).not.toContain("hx-trigger");
    const done = rowOf(table, pin!.requestid)!;
    expect(done).toContain('<span class="status status-pinned">pinned</span>');
    expect(size).toBeGreaterThan(300_000);
    expect(done).toContain(`<td data-label="Size" class="num">${(size / 1024).toFixed(1)} KiB</td>`);
  });

  it("filters by status, name and date; a bad filter is a 400 naming it", async () => {
    const { token, account } = await newAccount("dash-filter");
    const csrf = csrfOf(await page(token, "/dashboard/pins"));
    for (const name of ["alpha-site", "beta-site", "Gamma"]) {
      expect((await dash("/dashboard/pins", { cookie: token, form: { csrf, cid: identityCid(name).toString(), name } })).status).toBe(303);
    }
    await settle(account);
    const all = await pins(account);
    const byName = (n: string) => all.find((p) => p.pin.name === n)!.requestid;

    const named = await page(token, "/dashboard/pins?name=SITE");
    expect(rowOf(named, byName("alpha-site"))).toBeDefined();
    expect(rowOf(named, byName("beta-site"))).toBeDefined();
    expect(rowOf(named, byName("Gamma"))).toBeUndefined();
    expect(named).toContain("2 pins");

    expect(await page(token, "/dashboard/pins?status=failed")).toContain("0 pins");
    const pinned = await page(token, "/dashboard/pins?status=pinned");
    expect(pinned).toContain("3 pins");
    expect(pinned).toContain('<option value="pinned" selected="">pinned</option>');

    const today = new Date().toISOString().slice(0, 10);
    expect(await page(token, `/dashboard/pins?from=${today}&to=${today}`)).toContain("3 pins");
    expect(await page(token, "/dashboard/pins?to=2001-01-01")).toContain("0 pins");
    expect(await page(token, "/dashboard/pins?from=2999-01-01")).toContain("0 pins");

    expect(await page(token, "/dashboard/pins?status=lost", 400)).toContain("status must be one of queued, pinning, pinned, failed");
    expect(await page(token, "/dashboard/pins?from=yesterday", 400)).toContain("from must be a date (YYYY-MM-DD)");
  });

  it("a bad CID re-renders the panel with the reason (400) and creates nothing", async () => {
    const { token, account } = await newAccount("dash-bad");
    const csrf = csrfOf(await page(token, "/dashboard/pins"));
    const res = await dash("/dashboard/pins", { cookie: token, form: { csrf, cid: "not-a-cid" } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<div class="alert" role="alert">invalid cid &quot;not-a-cid&quot;: not a valid CID</div>');
    expect(await pins(account)).toEqual([]);
  });

  it("unpin removes the pin", async () => {
    const { token, account } = await newAccount("dash-unpin");
    const csrf = csrfOf(await page(token, "/dashboard/pins"));
    await dash("/dashboard/pins", { cookie: token, form: { csrf, cid: identityCid("unpin").toString() } });
    const [pin] = await pins(account);
    const res = await dash(`/dashboard/pins/${pin!.requestid}/unpin`, { cookie: token, form: { csrf } });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/dashboard/pins?unpinned=1");
    expect(await pins(account)).toEqual([]);
    const again = await dash(`/dashboard/pins/${pin!.requestid}/unpin`, { cookie: token, form: { csrf } });
    expect(again.status).toBe(404);
  });

  it("a failed pin stands out and retry re-creates it (same CID and name), which then pins", async () => {
    const { token, account } = await newAccount("dash-retry");
    const file = await importFile(pseudoRandomBytes(200_000, 43), { chunkSize: 65_536 });
    // A quota smaller than the DAG: the pin fails (INSUFFICIENT_FUNDS), not retryable by itself.
    expect((await call("PUT", `/api/v1/accounts/${account}/limits`, { token: ADMIN, body: { maxBytes: 1000 } })).status).toBe(200);
    const csrf = csrfOf(await page(token, "/dashboard/pins"));
    await dash("/dashboard/pins", { cookie: token, form: { csrf, cid: file.cid.toString(), name: "big" } });
    await settle(account);
    const [failed] = await pins(account);
    expect(failed!.status).toBe("failed");
    const html = await page(token, "/dashboard/pins");
    const row = rowOf(html, failed!.requestid)!;
    expect(row.startsWith(`<tr class="failed" data-requestid="${failed!.requestid}" data-status="failed">`)).toBe(true);
    expect(row).toContain("INSUFFICIENT_FUNDS");
    expect(row).toContain(`action="/dashboard/pins/${failed!.requestid}/retry"`);

    // Retrying a pin that is not failed is refused.
    expect((await call("PUT", `/api/v1/accounts/${account}/limits`, { token: ADMIN, body: { maxBytes: 10_000_000 } })).status).toBe(200);
    const res = await dash(`/dashboard/pins/${failed!.requestid}/retry`, { cookie: token, form: { csrf } });
    expect(res.status).toBe(303);
    const [fresh] = await pins(account);
    expect(fresh!.requestid).not.toBe(failed!.requestid);
    expect(fresh!.status).toBe("queued");
    expect(fresh!.pin).toEqual(failed!.pin);
    expect(res.headers.get("Location")).toBe(`/dashboard/pins?retried=${fresh!.requestid}`);
    expect((await pins(account)).map((p) => p.requestid)).toEqual([fresh!.requestid]);
    const refused = await dash(`/dashboard/pins/${fresh!.requestid}/retry`, { cookie: token, form: { csrf } });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("only a failed pin can be retried; this one is queued");
    await settle(account);
    expect((await pins(account))[0]!.status).toBe("pinned");
  });

  it("upload a file: pinned at once with the CID the upload API gives the same bytes", async () => {
    const { token, account } = await newAccount("dash-upload");
    const other = await newAccount("dash-upload-api");
    const bytes = pseudoRandomBytes(1_500_000, 47);
    const api = await call("POST", "/api/v1/upload", { token: other.token, body: bytes });
    expect(api.status).toBe(201);
    const expected = ((await api.json()) as { cid: string }).cid;

    const csrf = csrfOf(await page(token, "/dashboard/pins"));
    const form = new FormData();
    form.set("csrf", csrf);
    form.set("file", new File([bytes], "data.bin", { type: "application/octet-stream" }));
    const res = await dash("/dashboard/upload", { cookie: token, form });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/dashboard/pins?uploaded=${expected}`);
    const [pin] = await pins(account);
    expect(pin!.status).toBe("pinned");
    expect(pin!.pin.cid).toBe(expected);
    expect(pin!.pin.name).toBe("data.bin");
    const got = await call("GET", `/ipfs/${expected}`);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
  });

  it("a .car file is imported as a CAR (every block verified): its root is pinned; a corrupt one is refused with the reason", async () => {
    const { token, account } = await newAccount("dash-car");
    const dag = await importFile(pseudoRandomBytes(90_000, 49), { chunkSize: 16_384 });
    const csrf = csrfOf(await page(token, "/dashboard/pins"));
    const form = new FormData();
    form.set("csrf", csrf);
    // No media type, as browsers send a .car: the extension decides.
    form.set("file", new File([encodeCar([dag.cid], dag.blocks)], "site.car"));
    const res = await dash("/dashboard/upload", { cookie: token, form });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/dashboard/pins?uploaded=${dag.cid}`);
    const [pin] = await pins(account);
    expect(pin!.pin.cid).toBe(dag.cid.toString());
    expect(pin!.status).toBe("pinned");

    const broken = dag.blocks.map((b, i) => (i === 1 ? { cid: b.cid, bytes: b.bytes.map((x, j) => (j === 0 ? x ^ 1 : x)) } : b));
    const bad = new FormData();
    bad.set("csrf", csrf);
    bad.set("file", new File([encodeCar([dag.cid], broken)], "bad.car"));
    const refused = await dash("/dashboard/upload", { cookie: token, form: bad });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain(`bad block: section 2 does not hash to its CID ${dag.blocks[1]!.cid}`);
    expect(await pins(account)).toHaveLength(1);
  });

  it("the operator picks an account and acts on it; an unknown account is 404", async () => {
    const { account } = await newAccount("dash-op");
    const cookie = await signIn(ADMIN);
    const html = await page(cookie, `/dashboard/pins?account=${account}`);
    expect(html).toContain(`<option value="${account}" selected="">${account}</option>`);
    const csrf = csrfOf(html);
    const res = await dash("/dashboard/pins", { cookie, form: { csrf, account, cid: identityCid("op").toString(), name: "by-op" } });
    expect(res.status).toBe(303);
    const [pin] = await pins(account);
    expect(pin!.pin.name).toBe("by-op");
    expect(res.headers.get("Location")).toBe(`/dashboard/pins?pinned=${pin!.requestid}&account=${account}`);
    expect(await page(cookie, "/dashboard/pins?account=acc_000000000000000000000000", 404)).toContain("no account");
  });

  it("stuck: queued or pinning for 15 minutes, or after 3 attempts", () => {
    const now = 1_000_000_000;
    const pin = (status: PinRecord["status"], created: number, attempts: string): PinRecord => ({
      requestid: "r", status, created, pin: { cid: "c", origins: [], meta: {} }, info: { attempt_count: attempts },
    });
    expect(isStuck(pin("queued", now - STUCK_AFTER_MS, "0"), now)).toBe(true);
    expect(isStuck(pin("pinning", now - 1000, "3"), now)).toBe(true);
    expect(isStuck(pin("pinning", now - 1000, "2"), now)).toBe(false);
    expect(isStuck(pin("pinned", now - STUCK_AFTER_MS, "9"), now)).toBe(false);
  });
});
