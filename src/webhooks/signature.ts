import { base64 } from "multiformats/bases/base64";

/** Standard Webhooks: signatures are accepted within ±5 minutes of `webhook-timestamp`. */
export const TOLERANCE_SECONDS = 5 * 60;

export type Verdict = { ok: true; deliveryId: string | undefined } | { ok: false; reason: string };

/**
 * The HMAC key of a secret: Standard Webhooks secrets are `whsec_<base64>`
 * and the key is the decoded bytes; any other secret (GitHub's) is used as
 * its UTF-8 bytes.
 */
export function secretKey(secret: string): Uint8Array {
  if (secret.startsWith("whsec_")) {
    try {
      return decodeBase64(secret.slice("whsec_".length));
    } catch {
      // not base64 after the prefix: fall through to the raw bytes
    }
  }
  return new TextEncoder().encode(secret);
}

export async function hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message));
}

/** Compares two byte strings in time that depends only on their lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Standard Webhooks (standardwebhooks.com, "Verifying webhooks"): the
 * signed content is `${webhook-id}.${webhook-timestamp}.${raw body}`;
 * `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256>`
 * (several during secret rotation); any valid one under any configured
 * secret passes. The timestamp must be within ±5 minutes.
 */
export async function verifyStandardWebhook(headers: Headers, body: Uint8Array, secrets: string[], nowSeconds: number): Promise<Verdict> {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signatures = headers.get("webhook-signature");
  if (!id || !timestamp || !signatures) return { ok: false, reason: "webhook-id, webhook-timestamp and webhook-signature are required" };
  if (id.length > 256) return { ok: false, reason: "webhook-id too long" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "webhook-timestamp must be integer seconds" };
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return { ok: false, reason: "webhook-timestamp outside the tolerance" };
  const given: Uint8Array[] = [];
  for (const part of signatures.split(" ")) {
    const comma = part.indexOf(",");
    if (comma === -1 || part.slice(0, comma) !== "v1") continue;
    try {
      given.push(decodeBase64(part.slice(comma + 1)));
    } catch {
      // malformed entry: ignored, another may be valid
    }
  }
  const signed = concat(new TextEncoder().encode(`${id}.${timestamp}.`), body);
  let match = false;
  for (const secret of secrets) {
    const expected = await hmacSha256(secretKey(secret), signed);
    for (const sig of given) if (timingSafeEqual(expected, sig)) match = true;
  }
  return match ? { ok: true, deliveryId: `std:${id}` } : { ok: false, reason: "no valid signature" };
}

/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
 * raw body>` under the secret's UTF-8 bytes; `X-GitHub-Delivery` (when
 * present) makes redeliveries idempotent. GitHub sends no timestamp.
 */
export async function verifyGithubWebhook(headers: Headers, body: Uint8Array, secrets: string[]): Promise<Verdict> {
  const header = headers.get("X-Hub-Signature-256") ?? "";
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (match === null) return { ok: false, reason: "X-Hub-Signature-256 malformed" };
  const given = hexBytes(match[1]!.toLowerCase());
  let ok = false;
  for (const secret of secrets) {
    if (timingSafeEqual(await hmacSha256(new TextEncoder().encode(secret), body), given)) ok = true;
  }
  if (!ok) return { ok: false, reason: "no valid signature" };
  const delivery = headers.get("X-GitHub-Delivery");
  return { ok: true, deliveryId: delivery && delivery.length <= 256 ? `github:${delivery}` : undefined };
}

/** RFC 4648 base64, padded (as senders write it) or not. */
export function decodeBase64(text: string): Uint8Array {
  return base64.baseDecode(text.replace(/=+$/, ""));
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
