/**
 * PSA `origins` and webhook `origins` come from whoever holds a token or a
 * webhook secret: the worker must never fetch from private, loopback,
 * link-local or metadata addresses because a pin named them
 * (src/pinning/origins.ts). Each origin below points at a personality of the
 * local upstream server (which logs every request it gets), spelled in a
 * different way; the pin runs until it fails, and no personality was asked.
 */
import { env } from "cloudflare:workers";
import { base64 } from "multiformats/bases/base64";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it, vi } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { requestLog, uniquePersonality, upstreamBase } from "../helpers/upstream";
import { ADMIN, call, newAccount, pinJson, settle, type PinStatusJson } from "./helpers";

async function absentCid(): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`private origins ${crypto.randomUUID()}`)));
}

/** Origins naming the local upstream server in every spelling a client could use, each with its own personality. */
function loopbackOrigins(): { origins: string[]; personalities: string[] } {
  const port = new URL(upstreamBase()).port;
  const p = Array.from({ length: 7 }, () => uniquePersonality("honest"));
  const path = (name: string) => encodeURIComponent("/" + name);
  return {
    personalities: p,
    origins: [
      `/ip4/127.0.0.1/tcp/${port}/http/http-path/${path(p[0]!)}`,
      `http://127.0.0.1:${port}/${p[1]}`,
      `/dns/localhost/tcp/${port}/http/http-path/${path(p[2]!)}`,
      `http://localhost:${port}/${p[3]}`,
      `http://2130706433:${port}/${p[4]}`, // 127.0.0.1 as one decimal number
      `/ip4/0177.0.0.1/tcp/${port}/http/http-path/${path(p[5]!)}`, // octal
      `http://[::ffff:127.0.0.1]:${port}/${p[6]}`,
      "http://169.254.169.254/latest/meta-data",
      "/ip4/10.0.0.1/tcp/80/http",
      "http://metadata.google.internal/computeMetadata/v1",
    ],
  };
}

async function untilFailed(account: string, token: string, requestid: string): Promise<PinStatusJson> {
  return vi.waitFor(
    async () => {
      await settle(account);
      const pin = await pinJson(await call("GET", `/psa/pins/${requestid}`, { token }), 200);
      if (pin.status !== "failed") throw new Error(`still ${pin.status}`);
      return pin;
    },
    { timeout: 20_000, interval: 200 },
  );
}

describe("pin origins on private addresses are never fetched", () => {
  it("PSA POST /pins: the configured upstream is asked, none of the loopback/private/metadata origins", async () => {
    const { token, account } = await newAccount("private-origins");
    await registryStub(env, account).setLimits({ deadlineMs: 1 }); // one attempt, then failed
    const { origins, personalities } = loopbackOrigins();
    const cid = await absentCid();
    const created = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: cid.toString(), origins } }));
    expect(created.pin.origins).toEqual(origins); // kept as the client wrote them (PSA), just not dialled
    const failed = await untilFailed(account, token, created.requestid);
    expect(failed.info.last_error).toBe(`${cid} not found on any upstream`);
    for (const personality of personalities) expect(await requestLog(personality), personality).toEqual([]);
  });

  it("webhooks: the same origins in a signed payload are not fetched either", async () => {
    const { token, account } = await newAccount("private-origins-webhook");
    const secret = "whsec_" + base64.baseEncode(new TextEncoder().encode("private origins webhook secret!!"));
    expect((await call("PUT", `/api/v1/accounts/${account}/webhook-secrets`, { token: ADMIN, body: { secrets: [secret] } })).status).toBe(204);
    await registryStub(env, account).setLimits({ deadlineMs: 1 });
    const { origins, personalities } = loopbackOrigins();
    const body = JSON.stringify({ cid: (await absentCid()).toString(), origins });
    const id = `msg_${crypto.randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const key = await crypto.subtle.importKey("raw", base64.baseDecode(secret.slice(6)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${ts}.${body}`)));
    const res = await call("POST", `/webhooks/pin?account=${account}`, {
      body,
      headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${base64.baseEncode(sig)}` },
    });
    const created = await pinJson(res, 202);
    await untilFailed(account, token, created.requestid);
    for (const personality of personalities) expect(await requestLog(personality), personality).toEqual([]);
  });
});
