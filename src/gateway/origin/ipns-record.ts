/**
 * `application/vnd.ipfs.ipns-record` responses (trustless-gateway.md, IPNS
 * record responses; conformance I01–I03): the verified record bytes exactly
 * as a router served them.
 */
import { badRequest } from "../../http/errors";
import { isDnslinkName } from "../../ipns/name";
import { IPNS_RECORD_CONTENT_TYPE } from "../../ipns/record";
import { resolveIpns } from "../../ipns/resolve";
import { contentDisposition, contentLocation } from "../handlers/common-headers";
import type { ResponseFormat } from "../request/response-format";
import { guardName } from "./deny";
import { mutableMaxAge } from "./serve-site";
import type { OriginContext } from "./origin-context";

/**
 * The record of IPNS key `name` (canonical form). `path` is what followed
 * the name in the request: none is allowed (path-gateway.md#accept-request-header:
 * "400 Bad Request if the content is not under the IPNS namespace, or contains a path").
 */
export async function serveIpnsRecord(ctx: OriginContext, name: string, path: string, format: ResponseFormat): Promise<Response> {
  if (isDnslinkName(name)) throw badRequest(`${IPNS_RECORD_CONTENT_TYPE} is only served for IPNS keys, not for the DNSLink name ${name}`);
  if (path !== "" && path !== "/") throw badRequest(`${IPNS_RECORD_CONTENT_TYPE} is only served for /ipns/{name} without a path`);
  await guardName(ctx, name, []);
  const resolved = await resolveIpns(ctx.env, name, { waitUntil: ctx.waitUntil });
  // The record's own TTL (routing v1: "max-age: TTL of the record"), bounded by its validity and by a day.
  const maxAge = mutableMaxAge(Math.min(resolved.ttlSeconds, (resolved.validity.getTime() - Date.now()) / 1000));
  const filename = ctx.url.searchParams.get("filename") || `${resolved.name}.ipns-record`;
  const headers = new Headers({
    "Content-Type": IPNS_RECORD_CONTENT_TYPE,
    "Content-Length": String(resolved.record.length),
    "Content-Disposition": contentDisposition("attachment", filename),
    "Cache-Control": `public, max-age=${maxAge}`,
    "X-Ipfs-Path": `/ipns/${resolved.name}`,
    Vary: "Accept",
  });
  if (format.fromAccept) headers.set("Content-Location", contentLocation(ctx.url, { format: "ipns-record" }));
  return new Response(ctx.request.method === "HEAD" ? null : resolved.record, { status: 200, headers });
}
