/**
 * A local DNS-over-HTTPS resolver speaking the JSON API of Cloudflare's
 * `https://cloudflare-dns.com/dns-query` (`GET ?name=…&type=TXT` with
 * `Accept: application/dns-json`, answer `{ Status, Question, Answer }`), so
 * DNSLink is tested without real DNS. Its zone: every `dnslink.yml`
 * conformance fixture (`_dnslink.{domain}` TXT `dnslink={path}`, TTL 300),
 * plus the test domains of `EXTRA_RECORDS` under `dnslink.test`. Every other
 * name is NXDOMAIN.
 *
 * `{base}[/{mode}]/dns-query`; modes: none = honest; `fail` = HTTP 500;
 * `servfail` = Status 2; `garbage` = 200 with a non-JSON body; `slow-{ms}`.
 * `GET {base}/__log[?name=QNAME]`: JSON list of queries (`{ mode, name, type }`).
 */
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import { FIXTURES_DIR } from "./delegated-routing-server";
import { listenLocal } from "./listen-local";

const TXT = 16;
const CNAME = 5;

/** One answer: `texts` are the TXT character-strings of one record (split long values into several). */
interface ZoneRecord {
  type: typeof TXT | typeof CNAME;
  ttl: number;
  /** TXT: the character-strings of the record; CNAME: the target. */
  texts: string[];
  /** Write TXT data unquoted, as Google's JSON API does. */
  unquoted?: boolean;
  /** Raw `data` to send as is (escapes). */
  rawData?: string;
}

const GC_R1 = "bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui";
const DL_ROOT = "bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i";
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

/** Test domains beyond the fixtures, each exercising one parsing or resolution rule. */
export const EXTRA_RECORDS: Record<string, ZoneRecord[]> = {
  // Several DNSLink entries and an unrelated TXT: the lexicographically first wins (bafk… < bafy…).
  "_dnslink.multi.dnslink.test": [
    { type: TXT, ttl: 300, texts: [`dnslink=/ipfs/${DL_ROOT}`] },
    { type: TXT, ttl: 300, texts: ["v=spf1 -all"] },
    { type: TXT, ttl: 300, texts: [`dnslink=/ipfs/${GC_INDEX}`] },
  ],
  // A value split over two character-strings (RFC 1035 §3.3.14).
  "_dnslink.split.dnslink.test": [{ type: TXT, ttl: 300, texts: [`dnslink=/ipfs/${GC_R1.slice(0, 30)}`, `${GC_R1.slice(30)}/root2`] }],
  // Google's JSON API style: unquoted data.
  "_dnslink.unquoted.dnslink.test": [{ type: TXT, ttl: 300, texts: [`dnslink=/ipfs/${GC_INDEX}`], unquoted: true }],
  // Escapes inside a quoted string: `\.` and `\046` are both ".".
  "_dnslink.escaped.dnslink.test": [{ type: TXT, ttl: 300, texts: [], rawData: '"dnslink=/ipns/dnslink-test\\.example\\046org"' }],
  // A CNAME in front of the TXT record, as resolvers return when following one.
  "_dnslink.cname.dnslink.test": [
    { type: CNAME, ttl: 300, texts: ["_dnslink.dnslink-test.example.org."] },
    { type: TXT, ttl: 120, texts: [`dnslink=/ipfs/${GC_INDEX}`] },
  ],
  // No _dnslink. record, but one on the domain itself (legacy placement).
  "bare.dnslink.test": [{ type: TXT, ttl: 300, texts: [`dnslink=/ipfs/${GC_INDEX}`] }],
  // Only malformed DNSLink entries.
  "_dnslink.malformed.dnslink.test": [
    { type: TXT, ttl: 300, texts: ["dnslink=/ipfs/not-a-cid"] },
    { type: TXT, ttl: 300, texts: ["dnslink=ipfs/no-leading-slash"] },
  ],
  // TXT records, none of them DNSLink.
  "_dnslink.notxt.dnslink.test": [{ type: TXT, ttl: 300, texts: ["hello"] }],
  // A DNSLink for a namespace other than ipfs/ipns: ignored.
  "_dnslink.other-ns.dnslink.test": [{ type: TXT, ttl: 300, texts: ["dnslink=/foo/bar"] }],
  // A one-second TTL, to see the cache expire.
  "_dnslink.short-ttl.dnslink.test": [{ type: TXT, ttl: 1, texts: [`dnslink=/ipfs/${GC_INDEX}`] }],
  // A chain with sub-paths (dnslink-gateway spec example) and a loop.
  "_dnslink.chain-a.dnslink.test": [{ type: TXT, ttl: 300, texts: ["dnslink=/ipns/chain-b.dnslink.test/path-b"] }],
  "_dnslink.chain-b.dnslink.test": [{ type: TXT, ttl: 200, texts: [`dnslink=/ipfs/${GC_R1}/path-c`] }],
  "_dnslink.loop.dnslink.test": [{ type: TXT, ttl: 300, texts: ["dnslink=/ipns/loop.dnslink.test"] }],
};

export interface DohLogEntry {
  mode: string;
  name: string;
  type: string;
}

export interface DohServer {
  /** `http://127.0.0.1:PORT`; the resolver URL is `${base}/dns-query`. */
  base: string;
  /** Fixture domain → DNSLink path, as read from the `dnslink.yml` files. */
  fixtureLinks: Record<string, string>;
  log(name?: string): DohLogEntry[];
  close(): Promise<void>;
}

/** Reads the `dnslinks: {id: {domain, path}}` files without a YAML library: one `key: value` per line. */
export async function loadDnslinkFixtures(dir: string = FIXTURES_DIR): Promise<Record<string, string>> {
  const links: Record<string, string> = {};
  for (const file of await readdir(dir, { recursive: true })) {
    if (!file.endsWith("dnslink.yml")) continue;
    const text = new TextDecoder().decode(await readFile(resolve(dir, file)));
    let domain: string | undefined;
    for (const line of text.split("\n")) {
      const m = /^\s+(domain|path):\s*(\S+)/.exec(line.replace(/\s+#.*$/, ""));
      if (m === null) continue;
      if (m[1] === "domain") domain = m[2];
      else if (domain !== undefined) {
        links[domain] = m[2]!;
        domain = undefined;
      }
    }
  }
  return links;
}

const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

export async function startDohServer(options: { fixturesDir?: string; port?: number } = {}): Promise<DohServer> {
  const fixtureLinks = await loadDnslinkFixtures(options.fixturesDir);
  const zone: Record<string, ZoneRecord[]> = { ...EXTRA_RECORDS };
  for (const [domain, path] of Object.entries(fixtureLinks)) {
    zone[`_dnslink.${domain}`] = [{ type: TXT, ttl: 300, texts: [`dnslink=${path}`] }];
  }
  const log: DohLogEntry[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/__log") {
      const name = url.searchParams.get("name");
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(name === null ? log : log.filter((e) => e.name === name)));
      return;
    }
    const match = /^(?:\/([^/]+))?\/dns-query$/.exec(url.pathname);
    if (match === null || req.method !== "GET") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    const mode = match[1] ?? "";
    const name = (url.searchParams.get("name") ?? "").toLowerCase().replace(/\.$/, "");
    const type = (url.searchParams.get("type") ?? "").toUpperCase();
    log.push({ mode, name, type });
    const slow = /^slow-(\d+)$/.exec(mode);
    if (slow) await new Promise((done) => setTimeout(done, Number(slow[1])));
    if (mode === "fail") {
      res.writeHead(500, { "Content-Type": "text/plain" }).end("resolver failure (test mode)\n");
      return;
    }
    if (mode === "garbage") {
      res.writeHead(200, { "Content-Type": "application/dns-json" }).end("<html>not json</html>");
      return;
    }
    // Cloudflare answers the JSON form only when asked for it.
    if (!(req.headers.accept ?? "").toString().includes("application/dns-json")) {
      res.writeHead(415, { "Content-Type": "text/plain" }).end("send Accept: application/dns-json\n");
      return;
    }
    if (name === "" || type !== "TXT") {
      res.writeHead(400, { "Content-Type": "application/dns-json" }).end(JSON.stringify({ error: "name and type=TXT required" }));
      return;
    }
    const records = zone[name];
    const question = [{ name: `${name}.`, type: TXT }];
    const flags = { TC: false, RD: true, RA: true, AD: false, CD: false };
    let body: object;
    if (mode === "servfail") body = { Status: 2, ...flags, Question: question };
    else if (records === undefined) {
      body = {
        Status: 3,
        ...flags,
        Question: question,
        Authority: [{ name: "test.", type: 6, TTL: 60, data: "ns.test. hostmaster.test. 1 7200 3600 1209600 60" }],
      };
    } else {
      body = {
        Status: 0,
        ...flags,
        Question: question,
        Answer: records.map((r) => ({
          name: `${name}.`,
          type: r.type,
          TTL: r.ttl,
          data: r.rawData ?? (r.type === CNAME || r.unquoted ? r.texts.join("") : r.texts.map(quote).join(" ")),
        })),
      };
    }
    res.writeHead(200, { "Content-Type": "application/dns-json" }).end(JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`doh server bug: ${String(error)}\n`);
    });
  });
  const { base, close } = await listenLocal(server, "doh-server", options.port ?? 0);
  return {
    base,
    fixtureLinks,
    log: (name) => (name === undefined ? log : log.filter((e) => e.name === name)).map((e) => ({ ...e })),
    close,
  };
}
