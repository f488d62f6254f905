/**
 * The page around every dashboard panel: one heading per page, a nav whose
 * current link carries `aria-current`, a sign-out form (POST, CSRF token),
 * the stylesheet and htmx from the worker itself. Without JavaScript every
 * link and form still works (htmx only adds polling and in-place updates).
 */
import type { Child } from "hono/jsx";
import type { Session } from "./session";

export type PanelName = "pins" | "gateways" | "content" | "usage";

const PANELS: { name: PanelName; title: string }[] = [
  { name: "pins", title: "Pins" },
  { name: "gateways", title: "Gateways" },
  { name: "content", title: "Content" },
  { name: "usage", title: "Usage and cost" },
];

export function Page(props: { title: string; session: Session | null; current?: PanelName; account?: string; children: Child }) {
  const { session, current } = props;
  // The operator's chosen account travels between panels (never a token: only its id).
  const suffix = props.account !== undefined && session?.view === "service" ? `?account=${encodeURIComponent(props.account)}` : "";
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with form POSTs, which the Origin check refuses. */}
        <meta name="referrer" content="same-origin" />
        <link rel="icon" href="data:," />
        {/* htmx's indicator <style> would be refused by the CSP (style-src 'self'); the dashboard uses none. */}
        <meta name="htmx-config" content='{"includeIndicatorStyles":false}' />
        <title>{`${props.title} · ipfs-kit-edge dashboard`}</title>
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css" />
        <script src="/dashboard/assets/htmx.min.js" defer></script>
      </head>
      <body>
        <header class="top">
          <h1>ipfs-kit-edge</h1>
          {session !== null && (
            <nav aria-label="Dashboard panels">
              <ul>
                {PANELS.map((p) => (
                  <li>
                    <a href={`/dashboard/${p.name}${suffix}`} aria-current={p.name === current ? "page" : undefined}>
                      {p.title}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {session !== null && (
            <form method="post" action="/dashboard/sign-out">
              <span class="who">{session.view === "service" ? "Operator (service view)" : `Account ${session.account}`}</span>{" "}
              <input type="hidden" name="csrf" value={session.csrf} />
              <button type="submit" class="secondary">Sign out</button>
            </form>
          )}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}

/** A red box that names a problem (validation error, refused action). */
export function Alert(props: { children: Child }) {
  return (
    <div class="alert" role="alert">
      {props.children}
    </div>
  );
}

/** Says what a panel cannot show yet and why: never an invented number. */
export function Missing(props: { children: Child }) {
  return <p class="missing">{props.children}</p>;
}

/** Bytes in binary units, e.g. 1.5 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** USD with cents, or with the digits a small amount needs to not read as zero ($0.0000059). */
export function formatUsd(n: number): string {
  if (n === 0 || n >= 1) return `$${n.toFixed(2)}`;
  if (n >= 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toFixed(Math.min(20, 1 - Math.floor(Math.log10(n))))}`;
}

export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "—" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
