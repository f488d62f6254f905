/**
 * The `UPSTREAMS` variable (DESIGN.md, configuration contract): comma-separated
 * base URLs of trustless gateways, `https://host` or `http://127.0.0.1:PORT`,
 * optionally with a path prefix (`http://127.0.0.1:PORT/honest`).
 */

/**
 * Split, trim, drop empty entries and repeats, strip trailing slashes, so that
 * `${base}/ipfs/${cid}` is always a well-formed URL. The strings are otherwise
 * kept as written: they are the names outcomes and health stats are filed under.
 *
 * Throws an Error naming the entry when one is not an http(s) URL, or carries
 * credentials, a query or a fragment: that is an operator's configuration
 * mistake and must fail loudly rather than silently shrink the upstream set.
 *
 * @example parseUpstreams(" https://ipfs.io/ , http://127.0.0.1:8080,") // ["https://ipfs.io", "http://127.0.0.1:8080"]
 */
export function parseUpstreams(value: string): string[] {
  const out: string[] = [];
  for (const entry of value.split(",")) {
    const written = entry.trim();
    const base = written.replace(/\/+$/, "");
    if (base === "") continue;
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new Error(`UPSTREAMS: "${written}" is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`UPSTREAMS: "${written}" is not an http(s) URL`);
    if (url.username !== "" || url.password !== "") throw new Error(`UPSTREAMS: "${written}" must not carry credentials`);
    if (url.search !== "" || url.hash !== "" || base.includes("?") || base.includes("#")) {
      throw new Error(`UPSTREAMS: "${written}" must not have a query or fragment`);
    }
    if (!out.includes(base)) out.push(base);
  }
  return out;
}
