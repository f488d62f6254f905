/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright,
 * against `wrangler dev` of this worker (local DO, R2, Cache, cron) with the
 * local upstream gateway, IPNI server and an alert webhook receiver from
 * test/servers/. Every panel is used as a person would (sign in, pin,
 * upload, filter, watch a pin turn pinned without reloading, unpin, look up
 * content, run the fetch test, see the budget alert) and photographed at
 * desktop and phone width into test-artifacts/.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { CID } from "multiformats/cid";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../bench/wrangler-dev";
import { startIpniServer, type IpniServer } from "../servers/ipni-server";
import { startTrustlessGatewayServer, type TrustlessGatewayServer } from "../servers/trustless-gateway-server";
import { startWebhookReceiver, type WebhookReceiver } from "../servers/webhook-receiver";
import { pseudoRandomBytes } from "../helpers/pseudo-random";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ARTIFACTS = `${ROOT}test-artifacts`;
const WORK = `${ROOT}test-artifacts/.work`;
const CHROMIUM = "/usr/bin/chromium";
const ADMIN = `browser-admin-${process.pid}-${Date.now()}`;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const alertTag = `budget-${process.pid}`;

let upstream: TrustlessGatewayServer;
let ipni: IpniServer;
let receiver: WebhookReceiver;
let worker: WranglerDev;
let browser: Browser;
let token: string;
let account: string;

/** Imports bytes as UnixFS (CIDv1, raw leaves) with the real importer; returns the root and the blocks. */
async function unixfs(bytes: Uint8Array, chunk = 65_536): Promise<{ root: CID; blocks: [CID, Uint8Array][] }> {
  const blocks: [CID, Uint8Array][] = [];
  const store = {
    put: async (cid: CID, block: Uint8Array) => {
      blocks.push([CID.decode(cid.bytes), block]);
      return cid;
    },
  };
  let root: CID | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for await (const entry of importer([{ content: bytes }], store as any, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: chunk }) })) {
    root = CID.decode(entry.cid.bytes);
  }
  return { root: root!, blocks };
}

/** Polls until the assertion holds (playwright's own expect lives in @playwright/test, not installed). */
function eventually<T>(read: () => Promise<T> | T, timeout = 10_000) {
  return expect.poll(read, { timeout, interval: 200 });
}

/** The trimmed text of the locator's first match ("" when none). */
async function text(locator: Locator): Promise<string> {
  return (await locator.count()) === 0 ? "" : ((await locator.first().textContent()) ?? "").trim();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

/** The page is usable at its width: nothing makes the document scroll sideways (tables scroll in their own box). */
async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const { scroll, client, widest } = await page.evaluate(() => {
    const client = document.documentElement.clientWidth;
    // What sticks out, for the failure message.
    const widest = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > client + 1 && !el.closest(".table-wrap"))
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
      .slice(0, 5);
    return { scroll: document.documentElement.scrollWidth, client, widest };
  });
  expect(scroll, `sticking out: ${widest.join(", ")}`).toBeLessThanOrEqual(client);
}

async function signedIn(viewport: { width: number; height: number }, secret: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${worker.url}/dashboard/pins`);
  expect(new URL(page.url()).pathname).toBe("/dashboard/sign-in");
  await page.getByLabel("API token, or the operator token").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${worker.url}/dashboard/pins`);
  return { context, page };
}

function row(page: Page, requestid: string) {
  return page.locator(`tr[data-requestid="${requestid}"]`);
}

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  upstream = await startTrustlessGatewayServer({ fixturesDir: null });
  ipni = await startIpniServer();
  receiver = await startWebhookReceiver();
  worker = await startWranglerDev({
    name: "dashboard-browser",
    config: "wrangler.toml",
    vars: {
      ADMIN_TOKEN: ADMIN,
      UPSTREAMS: `${upstream.base}/honest`,
      PROVIDER_ROUTERS: ipni.base,
      DENYLIST_URLS: "",
      // A budget any stored byte exceeds: the alert shows and the cron sends it.
      BUDGET_MONTHLY_USD: "0.000000001",
      ALERT_WEBHOOK_URL: `${receiver.base}/ok/${alertTag}`,
    },
    args: ["--test-scheduled"],
    persistTo: `${WORK}/state`,
    logFile: `${WORK}/wrangler.log`,
  });
  const minted = await fetch(`${worker.url}/api/v1/tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "browser" }),
  });
  expect(minted.status).toBe(201);
  ({ token, account } = (await minted.json()) as { token: string; account: string });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await Promise.all([upstream?.close(), ipni?.close(), receiver?.close()]);
});

describe("dashboard in Chromium", () => {
  it("serves htmx byte for byte from node_modules/htmx.org, with its licence", async () => {
    const served = new Uint8Array(await (await fetch(`${worker.url}/dashboard/assets/htmx.min.js`)).arrayBuffer());
    expect(Buffer.from(served).equals(readFileSync(`${ROOT}node_modules/htmx.org/dist/htmx.min.js`))).toBe(true);
    expect(await (await fetch(`${worker.url}/dashboard/assets/htmx.LICENSE.txt`)).text()).toBe(readFileSync(`${ROOT}node_modules/htmx.org/LICENSE`, "utf8"));
  });

  it("signs in: Chromium keeps the __Host- cookie HttpOnly, Secure and SameSite=Strict on http://127.0.0.1", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${worker.url}/dashboard/sign-in`);
    await shot(page, "sign-in-desktop");
    await page.getByLabel("API token, or the operator token").fill("ike_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await eventually(() => text(page.getByRole("alert"))).toBe("That token is not valid (unknown, revoked or mistyped).");
    expect(await context.cookies()).toEqual([]);
    await page.getByLabel("API token, or the operator token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${worker.url}/dashboard/pins`);
    const cookies = await context.cookies();
    expect(cookies.map(({ name, value, path, httpOnly, secure, sameSite }) => ({ name, value, path, httpOnly, secure, sameSite }))).toEqual([
      { name: "__Host-ike-dashboard", value: token, path: "/", httpOnly: true, secure: true, sameSite: "Strict" },
    ]);
    // The page's scripts cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(page.url()).not.toContain(token);
    await context.close();
  });

  it("pins: pin a CID and watch it turn from queued to pinned without a reload; upload; filter; unpin", async () => {
    const { context, page } = await signedIn(DESKTOP, token);
    // A DAG no upstream has yet: the pin waits (queued, retrying).
    const late = await unixfs(pseudoRandomBytes(400_000, 7));
    await page.getByLabel("CID").fill(late.root.toString());
    await page.getByLabel("Name (optional)").first().fill("arrives-later");
    await page.getByRole("button", { name: "Pin", exact: true }).click();
    await eventually(() => text(page.getByRole("status"))).toContain("Pin requested:");
    const requestid = (await page.locator("tr[data-requestid]").first().getAttribute("data-requestid"))!;
    const pinRow = row(page, requestid);
    await eventually(() => pinRow.getAttribute("data-status"), 10_000).toMatch(/queued|pinning/);
    // Mark this document: if the row changes while the mark survives, polling (not a reload) did it.
    await page.evaluate(() => ((window as unknown as { mark: number }).mark = 42));
    await eventually(() => text(pinRow.locator(".status").first())).toMatch(/queued|pinning/);
    await eventually(() => text(pinRow), 15_000).toContain("attempt 1 failed");
    await shot(page, "pins-in-progress-desktop");
    // Now the upstream gets the blocks; the registry's retry (5 s backoff) pins it.
    for (const [cid, bytes] of late.blocks) upstream.addBlock(cid, bytes);
    await eventually(() => row(page, requestid).getAttribute("data-status"), 30_000).toBe("pinned");
    expect(await page.evaluate(() => (window as unknown as { mark?: number }).mark)).toBe(42);
    await eventually(() => text(row(page, requestid).locator("td.num"))).toMatch(/^39\d\.\d KiB$/);

    // Upload a file from disk.
    const file = pseudoRandomBytes(150_000, 9);
    await page.getByLabel(/^File/).setInputFiles({ name: "notes.bin", mimeType: "application/octet-stream", buffer: Buffer.from(file) });
    await page.getByRole("button", { name: "Upload and pin" }).click();
    await eventually(() => text(page.getByRole("status"))).toContain("Uploaded and pinned:");
    const uploaded = (await unixfs(file, 1024 * 1024)).root.toString();
    await eventually(() => text(page.getByRole("status"))).toBe(`Uploaded and pinned: ${uploaded}.`);
    await eventually(() => page.locator("tr", { hasText: "notes.bin" }).getAttribute("data-status")).toBe("pinned");

    // Filter by name, then by status.
    await page.getByRole("search").getByLabel("Name contains").fill("NOTES");
    await page.getByRole("search").getByRole("button", { name: "Filter" }).click();
    await eventually(() => page.locator("tbody tr").count()).toBe(1);
    await eventually(() => text(page.locator("tbody tr"))).toContain("notes.bin");
    await page.getByRole("search").getByLabel("Name contains").fill("");
    await page.getByRole("search").getByLabel("Status").selectOption("failed");
    await page.getByRole("search").getByRole("button", { name: "Filter" }).click();
    await eventually(() => page.locator("tbody tr").count()).toBe(0);
    await page.getByRole("search").getByLabel("Status").selectOption("");
    await page.getByRole("search").getByRole("button", { name: "Filter" }).click();
    await eventually(() => page.locator("tbody tr").count()).toBe(2);
    await shot(page, "pins-desktop");

    // Unpin the upload.
    await page.getByRole("button", { name: "Unpin notes.bin" }).click();
    await eventually(() => text(page.getByRole("status"))).toBe("Unpinned.");
    await eventually(() => page.locator("tbody tr").count()).toBe(1);
    await context.close();
  });

  it("gateways: after a cron probe, each upstream's health and its chart", async () => {
    const probe = await fetch(`${worker.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
    expect(probe.status).toBe(200);
    const { context, page } = await signedIn(DESKTOP, token);
    await page.getByRole("link", { name: "Gateways" }).click();
    await eventually(() => text(page.getByRole("heading", { level: 2 }))).toBe("Gateways");
    // Probes are filed under the probe region; the page links it when this request's region differs.
    const probeLink = page.getByRole("link", { name: "local", exact: true });
    if ((await probeLink.count()) > 0) await probeLink.click();
    const upstreamRow = page.locator(`tr[data-upstream="${upstream.base}/honest"]`);
    await eventually(() => text(upstreamRow)).toContain("passed");
    await eventually(() => text(upstreamRow.locator(".status").first())).toBe("closed");
    await eventually(() => upstreamRow.locator("svg.chart").first().isVisible()).toBe(true);
    await shot(page, "gateways-desktop");
    await context.close();
  });

  it("content: look up a pinned CID, then run the verified fetch test", async () => {
    const { context, page } = await signedIn(DESKTOP, token);
    const pinned = (await page.locator("tr[data-status=pinned] td.cid").first().textContent())!;
    await page.getByRole("link", { name: "Content" }).click();
    await page.getByRole("search").getByLabel("CID").fill(pinned);
    await page.getByRole("search").getByRole("button", { name: "Look up" }).click();
    await eventually(() => text(page.locator('[data-fact="pinned"]'))).toContain("pinned");
    await eventually(() => text(page.locator('[data-fact="r2"]'))).toContain("yes");
    await eventually(() => text(page.locator('[data-fact="providers"]'))).toContain("none found");
    await page.getByRole("button", { name: "Run the fetch test" }).click();
    await eventually(() => text(page.locator('[data-fact="fetch-test"]'))).toContain("verified, complete");
    await eventually(() => text(page.locator('[data-fact="ttfb"]'))).toMatch(/^\d+ ms$/);
    await shot(page, "content-desktop");
    await context.close();
  });

  it("usage and cost: quotas, the R2 estimate and the budget alert; the cron sends the alert once", async () => {
    const { context, page } = await signedIn(DESKTOP, ADMIN);
    await page.getByRole("link", { name: "Usage and cost" }).click();
    await eventually(() => text(page.locator(`tr[data-account="${account}"]`))).toContain("1 of 100000");
    await eventually(() => text(page.getByRole("alert"))).toContain("Budget alert:");
    await eventually(() => text(page.getByRole("alert"))).toContain("The alert webhook is sent by the next hourly check.");
    for (let i = 0; i < 2; i++) {
      const run = await fetch(`${worker.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("41 * * * *")}`);
      expect(run.status).toBe(200);
    }
    const got = (await (await fetch(`${receiver.base}/__received?tag=${alertTag}`)).json()) as { body: string }[];
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ type: "budget.exceeded", budgetUsd: 0.000000001 });
    await page.reload();
    await eventually(() => text(page.getByRole("alert"))).toContain("The alert webhook was sent for");
    await shot(page, "usage-desktop");
    await context.close();
  });

  it("every panel at phone width, operator view: no sideways scrolling, labelled controls", async () => {
    const { context, page } = await signedIn(PHONE, ADMIN);
    await page.goto(`${worker.url}/dashboard/pins?account=${account}`);
    await eventually(() => page.locator("tbody tr").count()).toBe(1);
    for (const [name, path] of [
      ["pins", `/dashboard/pins?account=${account}`],
      ["gateways", "/dashboard/gateways?region=local"],
      ["content", `/dashboard/content?cid=${(await page.locator("td.cid").first().textContent())!}`],
      ["usage", "/dashboard/usage"],
    ] as const) {
      await page.goto(worker.url + path);
      await eventually(() => page.getByRole("heading", { level: 2 }).isVisible()).toBe(true);
      await expectNoSidewaysScroll(page);
      // Every form control has an accessible name.
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll("input:not([type=hidden]), select, button")].filter((el) => {
          const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute("aria-label") || (el.tagName === "BUTTON" && el.textContent?.trim());
          return !labelled;
        }).length,
      );
      expect(unnamed, name).toBe(0);
      await shot(page, `${name}-phone`);
    }
    await context.close();
  });
});
