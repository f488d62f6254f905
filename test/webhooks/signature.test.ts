import { describe, expect, it } from "vitest";
import { timingSafeEqual, verifyStandardWebhook } from "../../src/webhooks/signature";

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
