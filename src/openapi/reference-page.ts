/**
 * `/api/docs`: the OpenAPI document rendered as one HTML page on the
 * server (no script, no CDN: it works offline with `npm start`), styled by
 * `/api/docs/style.css`, served by the worker too.
 */
type Json = Record<string, unknown>;

const METHODS = ["get", "head", "post", "put", "delete", "options"] as const;

export const REFERENCE_CSS = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}h3{font-size:1rem;margin:1.2rem 0 .3rem}
code,pre{font:13px/1.4 ui-monospace,monospace;background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
pre{padding:.5rem;overflow-x:auto}.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#0b5d1e}.post{color:#7a4a00}.put{color:#0d4a8a}.delete{color:#9b1111}.head,.options{color:#444}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
nav ul{columns:2}@media (max-width:40rem){nav ul{columns:1}}`;

const esc = (s: unknown) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const anchor = (method: string, path: string) => `${method}-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;

export function renderReferencePage(doc: Json): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const ops: { tag: string; method: string; path: string; op: Json }[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push({ tag: ((op.tags as string[] | undefined) ?? ["Other"])[0]!, method, path, op });
    }
  }
  const tags = [...new Set(ops.map((o) => o.tag))];
  const section = (tag: string) =>
    `<h2 id="${esc(tag.replace(/\s+/g, "-"))}">${esc(tag)}</h2>` +
    ops
      .filter((o) => o.tag === tag)
      .map(({ method, path, op }) => {
        const params = (op.parameters as Json[] | undefined) ?? [];
        const responses = Object.entries((op.responses as Record<string, Json>) ?? {});
        const security = (op.security as Json[] | undefined)?.map((s) => Object.keys(s)[0]).filter(Boolean) ?? [];
        const body = (op.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)?.content;
        return `<section><h3 id="${anchor(method, path)}"><span class="m ${method}">${method}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary ?? "")}</p>${op.description ? `<p>${esc(op.description)}</p>` : ""}
${security.length ? `<p>Auth: ${security.map((s) => `<code>${esc(s)}</code>`).join(" or ")}</p>` : "<p>Auth: none</p>"}
${params.length ? `<table><thead><tr><th scope="col">parameter</th><th scope="col">in</th><th scope="col">meaning</th></tr></thead><tbody>${params.map((p) => `<tr><td><code>${esc(p.name)}</code>${p.required ? " (required)" : ""}</td><td>${esc(p.in)}</td><td>${esc(p.description ?? "")}</td></tr>`).join("")}</tbody></table>` : ""}
${body ? `<p>Body: ${Object.entries(body).map(([type, media]) => `<code>${esc(type)}</code>${media.schema ? ` <pre>${esc(JSON.stringify(media.schema, null, 1))}</pre>` : ""}`).join(" ")}</p>` : ""}
<table><thead><tr><th scope="col">status</th><th scope="col">meaning</th></tr></thead><tbody>${responses.map(([status, r]) => `<tr><td>${esc(status)}</td><td>${esc(r.description ?? "")}</td></tr>`).join("")}</tbody></table></section>`;
      })
      .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} API reference</title><link rel="stylesheet" href="/api/docs/style.css"></head>
<body><header><h1>${esc(info.title)} ${esc(info.version)}: API reference</h1><p>${esc(info.description)}</p>
<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p></header>
<nav aria-label="Sections"><ul>${tags.map((t) => `<li><a href="#${esc(t.replace(/\s+/g, "-"))}">${esc(t)}</a></li>`).join("")}</ul></nav>
<main>${tags.map(section).join("\n")}</main>
<h2>Schemas</h2><pre>${esc(JSON.stringify((doc.components as Json).schemas, null, 1))}</pre></body></html>
`;
}
