import { TOLERANCE_SECONDS } from "./signature";

const DAY_MS = 86_400_000;

/**
 * How long a webhook delivery is remembered (PinRegistry `webhook_deliveries`:
 * its id, pin and first answer), docs/pinning.md "Webhooks".
 *
 * Standard Webhooks (`std:` ids): the timestamp is signed, so a captured
 * request stops verifying TOLERANCE_SECONDS after it was sent; but the
 * sender's own retries carry the same `webhook-id` with a fresh timestamp
 * and signature, and common schedules (Svix's: immediately, 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h) end about 28 h after the first attempt. The
 * record must outlive them to keep a retry idempotent: tolerance + 3 days.
 */
export const STANDARD_DELIVERY_RETENTION_MS = TOLERANCE_SECONDS * 1000 + 3 * DAY_MS;

/**
 * GitHub (`github:` ids, X-GitHub-Delivery): the signature covers the body
 * only, with no timestamp, so a captured delivery verifies forever and the
 * delivery record is its only replay protection (besides TLS keeping it
 * secret). GitHub does not retry by itself; redeliveries are asked for by
 * hand or by a script within days. Kept 7 days; a replay after that
 * creates the pin again (the same CID, counted against the quota).
 */
export const GITHUB_DELIVERY_RETENTION_MS = 7 * DAY_MS;

/** Expired records deleted per new delivery at most (each delivery removes up to this many, so the backlog only shrinks). */
export const DELIVERY_PRUNE_BATCH = 100;
