import { Hono } from "hono";
import { accountsStub } from "../durable-objects/accounts";
import { registryStub } from "../durable-objects/pin-registry";
import { badRequest, HttpError } from "../http/errors";
import { delegateFor, servicePeerId } from "../psa/delegates";
import { parsePin } from "../psa/pin-input";
import { checkReplicationOverride } from "../replication/override-check";
import { pinStatus } from "../psa/pin-status";
import { psaErrorResponse } from "../psa/psa-errors";
import { unwrap } from "../psa/routes";
import { verifyGithubWebhook, verifyStandardWebhook, type Verdict } from "./signature";

/** Largest webhook body accepted (the payload is a small JSON object). */
const MAX_BODY = 64 * 1024;

/**
 * `POST /webhooks/pin?account=<account id>` (docs/pinning.md "Webhooks"): a
 * signed request creates a pin in that account. Signed with the Standard
 * Webhooks scheme or GitHub's `X-Hub-Signature-256`, under one of the
 * account's secrets (set by the operator). Payload: `{ cid, name?, meta?,
 * origins? }` (a PSA Pin). Answers 202 PinStatus; a delivery id seen before
 * answers 200 with the pin it created and creates nothing. Bad, missing or
 * stale signature: 401, nothing pinned. Errors use the PSA Failure body.
 */
export const webhookRoutes = new Hono<{ Bindings: Env }>();

webhookRoutes.onError((err, c) => psaErrorResponse(err, c));

webhookRoutes.post("/pin", async (c) => {
  const unauthorized = (reason: string) => new HttpError("unauthorized", `webhook signature rejected: ${reason}`);
  const account = c.req.query("account");
  if (!account || !/^acc_[0-9a-f]{24}$/.test(account)) throw unauthorized("unknown account");

  const length = Number(c.req.header("Content-Length") ?? "0");
  if (length > MAX_BODY) throw new HttpError("payload_too_large", `webhook body larger than ${MAX_BODY} bytes`);
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.length > MAX_BODY) throw new HttpError("payload_too_large", `webhook body larger than ${MAX_BODY} bytes`);

  if (!(await accountsStub(c.env).accountExists(account))) throw unauthorized("unknown account");
  const registry = registryStub(c.env, account);
  const secrets = await registry.webhookSecrets();
  if (secrets.length === 0) throw unauthorized("no webhook secret configured for this account");

  const headers = c.req.raw.headers;
  let verdict: Verdict;
  if (headers.has("webhook-signature") || headers.has("webhook-id")) {
    verdict = await verifyStandardWebhook(headers, body, secrets, Math.floor(Date.now() / 1000));
  } else if (headers.has("X-Hub-Signature-256")) {
    verdict = await verifyGithubWebhook(headers, body, secrets);
  } else {
    throw unauthorized("no signature");
  }
  if (!verdict.ok) throw unauthorized(verdict.reason);

  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    throw badRequest("payload is not valid JSON");
  }
  const { input, root } = parsePin(payload);
  checkReplicationOverride(c.env, input.meta);
  const delegates = [delegateFor(new URL(c.req.url), await servicePeerId(c.env))];

  if (verdict.deliveryId !== undefined) {
    const earlier = await registry.pinOfDelivery(verdict.deliveryId);
    if (earlier !== null) return c.json(pinStatus(earlier, delegates), 200);
  }
  const record = unwrap(await registry.createPin(input, root, verdict.deliveryId === undefined ? {} : { webhookId: verdict.deliveryId }));
  return c.json(pinStatus(record, delegates), 202);
});
