/**
 * `PROVIDER_ROUTERS`: comma-separated base URLs of delegated routing servers
 * (Delegated Routing V1 HTTP API) asked for providers of a CID when no
 * configured upstream has it. Default in wrangler.toml: `https://cid.contact`
 * (IPNI). Empty: provider discovery is off.
 *
 * A bad entry is an operator's mistake and throws, naming the variable.
 */
export function parseProviderRouters(value: string | undefined): string[] {
  const out: string[] = [];
  for (const entry of (value ?? "").split(",")) {
    const base = entry.trim().replace(/\/+$/, "");
    if (base === "") continue;
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new Error(`PROVIDER_ROUTERS: "${base.slice(0, 64)}" is not a URL`);
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "" || url.username !== "") {
      throw new Error(`PROVIDER_ROUTERS: "${base.slice(0, 64)}" must be an http(s) base URL without query, fragment or credentials`);
    }
    if (!out.includes(base)) out.push(base);
  }
  return out;
}
