/**
 * `_redirects` parser and matcher against the gateway-conformance fixture
 * files (test/fixtures/conformance/fixtures/redirects_file/redirects.car, README
 * section F, W01–W06) and hostile files. The fixture texts below are the exact
 * bytes of the `_redirects` files in that CAR (sizes asserted).
 */
import { describe, expect, it } from "vitest";
import { matchRedirect } from "../../../src/gateway/redirects/match";
import { parseRedirects, RedirectsFileError } from "../../../src/gateway/redirects/parse";

// examples/_redirects (QmZU3kboiyi9jV59D8Mw8wzuvsr3HmvskqhYRRhdFA8wRq, 317 bytes)
const EXAMPLES =
  "/redirect-one /one.html\n" +
  "/301-redirect-one /one.html 301\n" +
  "/302-redirect-two /two.html 302\n" +
  "/200-index /index.html 200\n" +
  "/posts/:year/:month/:day/:title /articles/:year/:month/:day/:title 301\n" +
  "/splat/* /redirected-splat/:splat 301\n" +
  "/not-found/* /404.html 404\n" +
  "/gone/* /410.html 410\n" +
  "/unavail/* /451.html 451\n" +
  "/* /index.html 200\n";
// newlines/_redirects (53 bytes, CRLF)
const NEWLINES = "/redirect-one /one.html\r\n/200-index /index.html 200\r\n";
// good-codes/_redirects (144 bytes)
const GOOD_CODES = [200, 301, 302, 303, 307, 308, 404, 410, 451].map((c) => `/a${c} /b${c} ${c}\n`).join("");
// forced/_redirects, bad-codes/_redirects, invalid/_redirects
const FORCED = "/a /b 301!\n";
const BAD_CODES = "/a /b 999\n";
const INVALID = "hello\n";
// too-large/_redirects: 65,548 bytes = 4682 × "/from /to 301\n"
const TOO_LARGE = "/from /to 301\n".repeat(4682);

function parseError(file: string | Uint8Array): string {
  try {
    parseRedirects(file);
  } catch (err) {
    expect(err).toBeInstanceOf(RedirectsFileError);
    return (err as Error).message;
  }
  throw new Error("expected a parse error");
}

describe("fixture files", () => {
  it("have the sizes of the CAR's _redirects files", () => {
    const len = (s: string) => new TextEncoder().encode(s).byteLength;
    expect([len(EXAMPLES), len(NEWLINES), len(GOOD_CODES), len(TOO_LARGE)]).toEqual([317, 53, 144, 65548]);
  });

  it("W01: examples redirects with placeholders and splat", () => {
    const rules = parseRedirects(EXAMPLES);
    expect(rules).toHaveLength(10);
    const m = (p: string) => {
      const r = matchRedirect(rules, p);
      return r && { to: r.to, status: r.status };
    };
    expect(m("/redirect-one")).toEqual({ to: "/one.html", status: 301 });
    expect(m("/301-redirect-one")).toEqual({ to: "/one.html", status: 301 });
    expect(m("/302-redirect-two")).toEqual({ to: "/two.html", status: 302 });
    expect(m("/posts/2022/01/01/hello-world")).toEqual({ to: "/articles/2022/01/01/hello-world", status: 301 });
    expect(m("/splat/one.html")).toEqual({ to: "/redirected-splat/one.html", status: 301 });
    expect(m("/splat/a/b/c.html")).toEqual({ to: "/redirected-splat/a/b/c.html", status: 301 });
  });

  it("W02/W03: rewrites and custom error pages, first match wins", () => {
    const rules = parseRedirects(EXAMPLES);
    expect(matchRedirect(rules, "/200-index")).toMatchObject({ to: "/index.html", status: 200 });
    expect(matchRedirect(rules, "/catch-all")).toMatchObject({ to: "/index.html", status: 200 });
    expect(matchRedirect(rules, "/not-found/has-no-redirects-entry")).toMatchObject({ to: "/404.html", status: 404 });
    expect(matchRedirect(rules, "/gone/x")).toMatchObject({ to: "/410.html", status: 410 });
    expect(matchRedirect(rules, "/unavail/x")).toMatchObject({ to: "/451.html", status: 451 });
    // `/posts/...` with the wrong number of segments falls through to the catch-all.
    expect(matchRedirect(rules, "/posts/2022/01")).toMatchObject({ to: "/index.html", status: 200, rule: { line: 10 } });
    // `/*` also matches the root.
    expect(matchRedirect(rules, "/")).toMatchObject({ to: "/index.html", status: 200 });
  });

  it("W04: forced rule and too-large file are parse errors", () => {
    expect(parseError(FORCED)).toBe('could not parse _redirects: line 1: forced redirects (or "shadowing") are not supported');
    const big = parseError(TOO_LARGE);
    expect(big.startsWith("could not parse _redirects:")).toBe(true);
    expect(big).toContain("redirects file size cannot exceed");
    // the same limit applies to bytes
    expect(parseError(new TextEncoder().encode(TOO_LARGE))).toContain("redirects file size cannot exceed 65536 bytes");
  });

  it("W05: CRLF lines, every supported code, unsupported code", () => {
    const crlf = parseRedirects(NEWLINES);
    expect(matchRedirect(crlf, "/redirect-one")).toMatchObject({ to: "/one.html", status: 301 });
    expect(matchRedirect(crlf, "/200-index")).toMatchObject({ to: "/index.html", status: 200 });

    const good = parseRedirects(GOOD_CODES);
    for (const code of [200, 301, 302, 303, 307, 308, 404, 410, 451]) {
      expect(matchRedirect(good, `/a${code}`)).toMatchObject({ to: `/b${code}`, status: code });
    }
    expect(parseError(BAD_CODES)).toBe("could not parse _redirects: line 1: status code 999 is not supported");
    expect(parseError(INVALID)).toBe('could not parse _redirects: line 1: missing destination path: "hello"');
  });
});

describe("syntax", () => {
  it("ignores comments, blank lines and surrounding whitespace; exactly 64 KiB is allowed", () => {
    const rules = parseRedirects("# comment\n\n \t/a\t /b   302 \t\n   # indented comment\n/c /d");
    expect(rules.map((r) => [r.from, r.to, r.status, r.line])).toEqual([
      ["/a", "/b", 302, 3],
      ["/c", "/d", 301, 5],
    ]);
    const exact = "#".repeat(65536 - 6) + "\n/a /b";
    expect(parseRedirects(exact)).toHaveLength(1);
    expect(parseError(exact + "x")).toContain("redirects file size cannot exceed");
  });

  it("counts multi-byte characters as bytes for the size limit", () => {
    const ok = "/ą /b\n" + "#" + "é".repeat(32764); // 7 + 1 + 65528 = 65536 bytes
    expect(parseRedirects(ok)).toHaveLength(1);
    expect(parseError(ok + "é")).toContain("redirects file size cannot exceed");
  });

  it("rejects duplicate placeholders in from, allows repeats in to", () => {
    expect(parseError("/a/:x/:x /b 301")).toBe('could not parse _redirects: line 1: placeholder ":x" is used more than once in "from"');
    const rules = parseRedirects("/u/:id /users/:id/:id?ref=:id 302");
    expect(matchRedirect(rules, "/u/42")?.to).toBe("/users/42/42?ref=42");
  });

  it("substitutes whole placeholder names only", () => {
    const rules = parseRedirects("/p/:year /x/:year/:yearly 301");
    expect(matchRedirect(rules, "/p/2020")?.to).toBe("/x/2020/:yearly");
  });

  it("rejects malformed lines with a clear message", () => {
    expect(parseError("/a /b 301 extra")).toBe('could not parse _redirects: line 1: must match format "from to [status]": "/a /b 301 extra"');
    expect(parseError("a /b")).toBe('could not parse _redirects: line 1: "from" must be a path starting with "/": "a"');
    expect(parseError("/a javascript:alert(1)")).toContain('"to" must be a path starting with "/" or an http(s) URL');
    expect(parseError("/a //evil.example/x")).toContain('"to" must be a path starting with "/" or an http(s) URL');
    expect(parseError("/a /b abc")).toBe('could not parse _redirects: line 1: status "abc" is not a number');
    expect(parseError("/a /b 3010")).toBe('could not parse _redirects: line 1: status "3010" is not a number');
    expect(parseError("/ok /fine\n/a /b 200!")).toContain("line 2: forced redirects");
    expect(parseError(new Uint8Array([0x2f, 0x61, 0x20, 0x2f, 0xff]))).toBe("could not parse _redirects: file is not valid UTF-8");
  });

  it("allows absolute http(s) targets and merges the user's query into redirects", () => {
    const rules = parseRedirects(
      "/source1/* /target-file?static-query1=static-val1&static-query2=static-val2 301\n" +
        "/source2/:code/:name /target-file?code=:code&name=:name 301\n" +
        "/source3/* https://example.net/target3/:splat 301\n" +
        "/rewrite /index.html?x=1 200\n",
    );
    expect(matchRedirect(rules, "/source1/x", "?static-query2=user&a=b")?.to).toBe(
      "/target-file?static-query1=static-val1&static-query2=user&a=b",
    );
    expect(matchRedirect(rules, "/source2/7/bob")?.to).toBe("/target-file?code=7&name=bob");
    expect(matchRedirect(rules, "/source3/a/b", "?q=1")?.to).toBe("https://example.net/target3/a/b?q=1");
    // a rewrite is a path inside the root: the user's query is not merged
    expect(matchRedirect(rules, "/rewrite", "?q=1")?.to).toBe("/index.html?x=1");
  });
});

describe("matching", () => {
  it("compares literal segments percent-decoded, substitutes the raw segment", () => {
    const rules = parseRedirects("/ą/:name /b/:name 302\n/%C4%99 /e 301");
    expect(matchRedirect(rules, "/%C4%85/x%20y")).toMatchObject({ to: "/b/x%20y", status: 302 });
    expect(matchRedirect(rules, "/%C4%99")).toMatchObject({ to: "/e", status: 301 });
    expect(matchRedirect(rules, "/%C4%85")).toBeUndefined();
  });

  it("ignores a trailing slash, keeps it in the splat", () => {
    const rules = parseRedirects("/one /1.html\n/dir/* /d/:splat 301");
    expect(matchRedirect(rules, "/one/")?.to).toBe("/1.html");
    expect(matchRedirect(rules, "/dir/a/b/")?.to).toBe("/d/a/b/");
    expect(matchRedirect(rules, "/dir")?.to).toBe("/d/");
    expect(matchRedirect(rules, "/dirx")).toBeUndefined();
  });

  it("a `*` that is not last is a literal segment", () => {
    const rules = parseRedirects("/a/*/b /c 301");
    expect(matchRedirect(rules, "/a/*/b")?.to).toBe("/c");
    expect(matchRedirect(rules, "/a/x/b")).toBeUndefined();
  });

  it("returns undefined when no rule matches", () => {
    expect(matchRedirect(parseRedirects("/a /b"), "/c")).toBeUndefined();
    expect(matchRedirect([], "/")).toBeUndefined();
  });
});

describe("hostile files", () => {
  it("a single huge line fails fast with a short excerpt", () => {
    const line = "/" + "a".repeat(65_000);
    const msg = parseError(line);
    expect(msg).toBe(`could not parse _redirects: line 1: missing destination path: "/${"a".repeat(63)}…"`);
  });

  it("10k rules parse and match the last one quickly", () => {
    // 9,999 rules that never match the probe, then the one that does (60,000 bytes).
    const file = "/a /b\n".repeat(9_999) + "/z /t 302\n";
    expect(new TextEncoder().encode(file).byteLength).toBeLessThanOrEqual(65536);
    const t0 = performance.now();
    const rules = parseRedirects(file);
    const hit = matchRedirect(rules, "/z");
    const miss = matchRedirect(rules, "/not-there");
    const elapsed = performance.now() - t0;
    expect(rules).toHaveLength(10_000);
    expect(hit).toMatchObject({ to: "/t", status: 302, rule: { line: 10_000 } });
    expect(miss).toBeUndefined();
    expect(elapsed).toBeLessThan(1000);
  });

  it("many placeholders on one line do not blow up", () => {
    const names = Array.from({ length: 2000 }, (_, i) => `:p${i}`);
    const rules = parseRedirects(`/${names.join("/")} /${names.join("/")} 301`);
    const path = "/" + Array.from({ length: 2000 }, (_, i) => `v${i}`).join("/");
    expect(matchRedirect(rules, path)?.to).toBe(path);
  });
});
