/**
 * CORS for the gateway (path-gateway.md and gateway-conformance's CORS
 * check): any origin may GET/HEAD content-addressed data and read the
 * headers that make it verifiable.
 */
export const corsHeaders: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type, Range, User-Agent, X-Requested-With",
  "Access-Control-Expose-Headers":
    "Content-Range, Content-Length, X-Ipfs-Path, X-Ipfs-Roots, X-Chunked-Output, X-Stream-Output, Content-Type, Content-Location, ETag",
};

export function preflight(): Response {
  return new Response(null, { status: 204, headers: { ...corsHeaders, "Access-Control-Max-Age": "86400" } });
}
