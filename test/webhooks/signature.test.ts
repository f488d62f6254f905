import { describe, expect, it } from "vitest";
import { timingSafeEqual, verifyGithubWebhook, verifyStandardWebhook } from "../../src/webhooks/signature";

/** The example of the Standard Webhooks reference libraries (standard-webhooks/standard-webhooks). */
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

function headers(signature: string, timestamp = VECTOR.timestamp): Headers {
  return new Headers({ "webhook-id": VECTOR.id, "webhook-timestamp": String(timestamp), "webhook-signature": signature });
}
const body = new TextEncoder().encode(VECTOR.body);

describe("Standard Webhooks signature", () => {
  it("accepts the reference vector (padded base64) within the tolerance", async () => {
    expect(await verifyStandardWebhook(headers(VECTOR.signature), body, [VECTOR.secret], VECTOR.timestamp + 299)).toEqual({ ok: true, deliveryId: `std:${VECTOR.id}` });
    expect(await verifyStandardWebhook(headers(`v1,bogus ${VECTOR.signature}`), body, ["whsec_b3RoZXI=", VECTOR.secret], VECTOR.timestamp)).toEqual({ ok: true, deliveryId: `std:${VECTOR.id}` });
  });

  it("rejects it outside ±5 minutes, under another secret, or over another body", async () => {
    expect((await verifyStandardWebhook(headers(VECTOR.signature), body, [VECTOR.secret], VECTOR.timestamp + 301)).ok).toBe(false);
    expect((await verifyStandardWebhook(headers(VECTOR.signature), body, [VECTOR.secret], VECTOR.timestamp - 301)).ok).toBe(false);
    expect((await verifyStandardWebhook(headers(VECTOR.signature), body, ["whsec_b3RoZXI="], VECTOR.timestamp)).ok).toBe(false);
    expect((await verifyStandardWebhook(headers(VECTOR.signature), new TextEncoder().encode('{"test": 2432232315}'), [VECTOR.secret], VECTOR.timestamp)).ok).toBe(false);
  });

  it("timingSafeEqual compares bytes and lengths", () => {
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
  });
});

/**
 * GitHub's published test vector ("Validating webhook deliveries", docs.github.com:
 * "Testing the webhook payload validation"): secret, payload and the expected
 * X-Hub-Signature-256, none of them computed here.
 */
const GITHUB_VECTOR = {
  secret: "It's a Secret to Everybody",
  payload: "Hello, World!",
  signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
};

describe("GitHub X-Hub-Signature-256", () => {
  const payload = new TextEncoder().encode(GITHUB_VECTOR.payload);
  const gh = (signature: string, delivery?: string) =>
    new Headers({ "X-Hub-Signature-256": signature, ...(delivery === undefined ? {} : { "X-GitHub-Delivery": delivery }) });

  it("accepts GitHub's published vector (any configured secret may match; upper-case hex too)", async () => {
    expect(await verifyGithubWebhook(gh(GITHUB_VECTOR.signature, "d-1"), payload, [GITHUB_VECTOR.secret])).toEqual({ ok: true, deliveryId: "github:d-1" });
    expect(await verifyGithubWebhook(gh(GITHUB_VECTOR.signature), payload, ["another secret of some length", GITHUB_VECTOR.secret])).toEqual({ ok: true, deliveryId: undefined });
    expect(await verifyGithubWebhook(gh(GITHUB_VECTOR.signature.toUpperCase().replace("SHA256=", "sha256=")), payload, [GITHUB_VECTOR.secret])).toEqual({ ok: true, deliveryId: undefined });
  });

  it("rejects it under another secret, over another payload, with one hex digit changed, or malformed", async () => {
    expect(await verifyGithubWebhook(gh(GITHUB_VECTOR.signature), payload, ["It's a Secret to Everybody."])).toEqual({ ok: false, reason: "no valid signature" });
    expect(await verifyGithubWebhook(gh(GITHUB_VECTOR.signature), new TextEncoder().encode("Hello, World?"), [GITHUB_VECTOR.secret])).toEqual({ ok: false, reason: "no valid signature" });
    expect(await verifyGithubWebhook(gh(GITHUB_VECTOR.signature.slice(0, -1) + "f"), payload, [GITHUB_VECTOR.secret])).toEqual({ ok: false, reason: "no valid signature" });
    expect(await verifyGithubWebhook(gh(GITHUB_VECTOR.signature.slice(0, -1)), payload, [GITHUB_VECTOR.secret])).toEqual({ ok: false, reason: "X-Hub-Signature-256 malformed" });
    expect(await verifyGithubWebhook(gh("sha1=" + GITHUB_VECTOR.signature.slice(7)), payload, [GITHUB_VECTOR.secret])).toEqual({ ok: false, reason: "X-Hub-Signature-256 malformed" });
  });
});
