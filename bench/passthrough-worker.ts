/**
 * The bench's baseline: a Worker that fetches the same upstream URL the
 * gateway would ask for and returns the body as it comes, unverified and
 * unparsed. `GET /ipfs/{cid}?…` → `GET {UPSTREAM}/ipfs/{cid}?…` with the
 * client's Accept header. Its throughput is what the Workers runtime and the
 * upstream can do with no gateway work at all. Bench only, never deployed.
 */
interface PassthroughEnv {
  /** Base URL of one trustless gateway, e.g. http://127.0.0.1:PORT/honest. */
  UPSTREAM: string;
}

export default {
  async fetch(request: Request, env: PassthroughEnv): Promise<Response> {
    const url = new URL(request.url);
    const upstream = await fetch(`${env.UPSTREAM}${url.pathname}${url.search}`, {
      headers: { Accept: request.headers.get("Accept") ?? "*/*" },
    });
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  },
} satisfies ExportedHandler<PassthroughEnv>;
