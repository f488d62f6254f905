import { corsHeaders } from "../handlers/cors";

/**
 * Every response of a gateway request carries the gateway's CORS headers,
 * errors included (a page fetching `/ipfs/…` must be able to read a 404 or a
 * 410). Responses that already have them are left as they are.
 */
export function withGatewayCors(response: Response): Response {
  if (response.headers.has("Access-Control-Allow-Origin")) return response;
  let res = response;
  try {
    for (const [k, v] of Object.entries(corsHeaders)) res.headers.set(k, v);
  } catch {
    // Immutable headers (a response straight from fetch): copy it.
    res = new Response(response.body, response);
    for (const [k, v] of Object.entries(corsHeaders)) res.headers.set(k, v);
  }
  return res;
}
