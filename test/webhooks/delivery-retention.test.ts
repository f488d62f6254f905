/**
 * `webhook_deliveries` stays bounded (src/webhooks/delivery-retention.ts):
 * Standard Webhooks records are forgotten TOLERANCE_SECONDS + 3 days after
 * they were received, GitHub ones (no signed timestamp) after 7 days, at
 * most DELIVERY_PRUNE_BATCH per new delivery; a replay inside the window is
 * still answered byte for byte as the first delivery was. Records are aged
 * by moving their `received` time back in the object's SQLite.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { base64 } from "multiformats/bases/base64";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import {
  DELIVERY_PRUNE_BATCH,
  GITHUB_DELIVERY_RETENTION_MS,
  STANDARD_DELIVERY_RETENTION_MS,
} from "../../src/webhooks/delivery-retention";
import { ADMIN, call, identityCid, newAccount } from "../pinning/helpers";

const STD_SECRET = "whsec_" + base64.baseEncode(new TextEncoder().encode("retention secret, thirty-two b.."));
const GITHUB_SECRET = "github-retention-shared-secret";

async function hmac(key: Uint8Array, text: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(text)));
}

async function setUp() {
  const { account } = await newAccount("delivery-retention");
  const res = await call("PUT", `/api/v1/accounts/${account}/webhook-secrets`, { token: ADMIN, body: { secrets: [STD_SECRET, GITHUB_SECRET] } });
  expect(res.status).toBe(204);
  const post = (body: string, headers: Record<string, string>) =>
    call("POST", `/webhooks/pin?account=${account}`, { body, headers: { "Content-Type": "application/json", ...headers } });
  /** A Standard Webhooks delivery signed now (a sender's retry: same id, fresh timestamp). */
  const standard = async (id: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    const ts = Math.floor(Date.now() / 1000);
    const sig = base64.baseEncode(await hmac(base64.baseDecode(STD_SECRET.slice(6)), `${id}.${ts}.${body}`));
    return post(body, { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${sig}` });
  };
  const github = async (delivery: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    const hex = Array.from(await hmac(new TextEncoder().encode(GITHUB_SECRET), body), (b) => b.toString(16).padStart(2, "0")).join("");
    return post(body, { "X-Hub-Signature-256": `sha256=${hex}`, "X-GitHub-Delivery": delivery });
  };
  const registry = registryStub(env, account);
  /** Moves a record's receipt `ageMs` into the past. */
  const age = (webhookId: string, ageMs: number) =>
    runInDurableObject(registry, (_o, state) => {
      state.storage.sql.exec("UPDATE webhook_deliveries SET received = ? WHERE webhook_id = ?", Date.now() - ageMs, webhookId);
    });
  const ids = async () => (await registry.webhookDeliveries()).map((d) => d.webhook_id);
  return { registry, standard, github, age, ids };
}

describe("webhook deliveries are remembered for their retention window, then forgotten", () => {
  it("past the window: Standard Webhooks after tolerance + 3 days, GitHub after 7 days; younger ones kept and replayed identically", async () => {
    expect(STANDARD_DELIVERY_RETENTION_MS).toBe(5 * 60_000 + 3 * 86_400_000);
    expect(GITHUB_DELIVERY_RETENTION_MS).toBe(7 * 86_400_000);
    const { standard, github, age, ids } = await setUp();
    const payload = (n: string) => ({ cid: identityCid(`retention ${n}`).toString(), name: n });

    const stdOld = await standard("msg_old", payload("std-old"));
    const stdYoung = await standard("msg_young", payload("std-young"));
    const ghOld = await github("gh-old", payload("gh-old"));
    const ghYoung = await github("gh-young", payload("gh-young"));
    for (const res of [stdOld, stdYoung, ghOld, ghYoung]) expect(res.status).toBe(202);
    const youngBodies = { std: await stdYoung.text(), gh: await ghYoung.text() };

    await age("std:msg_old", STANDARD_DELIVERY_RETENTION_MS + 1_000);
    await age("std:msg_young", STANDARD_DELIVERY_RETENTION_MS - 60_000);
    await age("github:gh-old", GITHUB_DELIVERY_RETENTION_MS + 1_000);
    await age("github:gh-young", STANDARD_DELIVERY_RETENTION_MS + 1_000); // a GitHub record outlives the Standard window
    expect((await ids()).sort()).toEqual(["github:gh-old", "github:gh-young", "std:msg_old", "std:msg_young"]);

    const fresh = await standard("msg_fresh", payload("fresh"));
    expect(fresh.status).toBe(202);
    const freshBody = await fresh.text();
    // Oldest first (by receipt): the GitHub record younger than 7 days, the Standard one younger than its window, the new one.
    expect(await ids()).toEqual(["github:gh-young", "std:msg_young", "std:msg_fresh"]);

    // Replays inside the window answer what the first delivery answered, byte for byte, and create nothing.
    for (const [res, body] of [
      [await standard("msg_fresh", payload("fresh")), freshBody],
      [await standard("msg_young", payload("std-young")), youngBodies.std],
      [await github("gh-young", payload("gh-young")), youngBodies.gh],
    ] as const) {
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(body);
    }
    expect(await ids()).toEqual(["github:gh-young", "std:msg_young", "std:msg_fresh"]);
  });

  it(`a backlog is removed ${DELIVERY_PRUNE_BATCH} records per new delivery, oldest first`, async () => {
    const { registry, standard, ids } = await setUp();
    const backlog = DELIVERY_PRUNE_BATCH + 20;
    await runInDurableObject(registry, (_o, state) => {
      const old = Date.now() - GITHUB_DELIVERY_RETENTION_MS - 60_000;
      for (let i = 0; i < backlog; i++) {
        state.storage.sql.exec(
          "INSERT INTO webhook_deliveries (webhook_id, requestid, received, answer) VALUES (?, ?, ?, NULL)",
          `github:backlog-${String(i).padStart(3, "0")}`, crypto.randomUUID(), old + i,
        );
      }
    });
    expect((await standard("msg_b1", { cid: identityCid("backlog 1").toString() })).status).toBe(202);
    const left = await ids();
    expect(left).toEqual([...Array.from({ length: 20 }, (_, i) => `github:backlog-${DELIVERY_PRUNE_BATCH + i}`), "std:msg_b1"]);
    expect((await standard("msg_b2", { cid: identityCid("backlog 2").toString() })).status).toBe(202);
    expect(await ids()).toEqual(["std:msg_b1", "std:msg_b2"]);
  });
});
