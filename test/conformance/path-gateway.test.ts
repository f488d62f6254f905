/**
 * Conformance sections D ("Path gateway: raw via path, UnixFS, caching,
 * ranges", P01–P29) and E ("JSON / CBOR / DAG, TAR", J01–J20, X01–X04) of
 * test/fixtures/conformance/README.md, from gateway-conformance's path gateway
 * tests, replayed against the worker with the honest test upstream behind
 * it. Where the table allows several answers, the comment says which one
 * this gateway gives, and the test asserts that one exactly.
 *
 * Not replayed here: P20, P21 and J13 (`Cache-Control: only-if-cached`:
 * test/conformance/only-if-cached.test.ts) and J21 (an /ipns/ path).
 */
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { fetchWorker } from "../helpers/upstream";
import { readTar } from "../gateway/path/tar-reader";

const RAW = "application/vnd.ipld.raw";
const IMMUTABLE = "public, max-age=29030400, immutable";
const GENERATED_HTML = "public, max-age=604800, stale-while-revalidate=2678400";
const TEXT = "text/plain; charset=utf-8";

// Fixture CIDs (README "Fixture reference").
const RB_ROOT = "bafybeie72edlprgtlwwctzljf6gkn2wnlrddqjbkxo3jomh4n7omwblxly";
const RB_DIR = "bafybeifaqksygmsbnqe76kwvxoqxtkzcwssq5jkhuo65ldtqiunr3bxlra";
const DWF_ROOT = "bafybeihchr7vmgjaasntayyatmp5sv6xza57iy2h4xj7g46bpjij6yhrmy";
const ASCII_CAR = "bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm";
const F3K = "QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk";
const GC_R1 = "bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui";
const GC_R2 = "bafybeih2w7hjocxjg6g2ku25hvmd53zj7og4txpby3vsusfefw5rrg5sii";
const GC_R3 = "bafybeiawdvhmjcz65x5egzx4iukxc72hg4woks6v6fvgyupiyt3oczk5ja";
const GC_R4 = "bafybeifq2rzpqnqrsdupncmkmhs3ckxxjhuvdcbvydkgvch3ms24k5lo7q";
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
const GC_R4_HEX = "12340a24015512205891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03120a696e6465782e68746d6c18060a020801";
const DL_ROOT = "bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i";
const DL_FILE = "bafkreialihlqnf5uwo4byh4n3cmwlntwqzxxs2fg5vanqdi3d7tb2l5xkm";
const DL_FILE_TEXT = "I am a txt file on path with utf8\n";
const SYM_ROOT = "QmWvY6FaqFMS89YAQ9NAPjVP4WZKA1qbHbicc9HeSKQTgt";
const SYM_ROOT_SHA256 = "7f8bc27d096a67a69d6690f3a1c5e2ac7743ec7d85d6cfc5020b2c3945e79949";
const PCT_ROOT = "bafybeig675grnxcmshiuzdaz2xalm6ef4thxxds6o6ypakpghm5kghpc34";
const TJSON = "bafkreibrppizs3g7axs2jdlnjua6vgpmltv7k72l7v7sa6mmht6mne3qqe";
const TJSON_TEXT = '{ "test": "i am a plain json file" }\n';
const DAGJSON = "baguqeeram5ujjqrwheyaty3w5gdsmoz6vittchvhk723jjqxk7hakxkd47xq";
const DAGJSON_TEXT = '{"foo":{"link":{"/":"baguqeeraxpdqyfizawpb7zl5gnpg7jw3myuynb42ngzmeo7xn5kmm5pabt6q"},"object":{"banana":10,"monkey":false}}}';
const DAGCBOR = "bafyreibs4utpgbn7uqegmd2goqz4bkyflre2ek2iwv743fhvylwi4zeeim";
const PLAINJSON = "bagaaierajjsnhsxqlgfrvknlt7z2heoljcgfv37cn45tu7mhmr23x3ekiboq";
const PLAINJSON_TEXT = '{\n\t"test": "plain json"\n}\n';
const PLAINCBOR = "bafireif3aymeikgfbofx533yf5vlx4kimzq6zmzmpra2mnzfsfnmv4hchm";
const PLAINCBOR_HEX = "a164746573746a706c61696e206a736f6e";
const TAR_IN = "bafybeibfevfxlvxp5vxobr5oapczpf7resxnleb7tkqmdorc4gl5cdva3y";
const TAR_OUT = "bafybeicaj7kvxpcv4neaqzwhrqqmdstu4dhrwfpknrgebq6nzcecfucvyu";
const ID_HELLO = "bafkqabtimvwgy3yk";

const GC_INDEX_PATH = `/ipfs/${GC_R1}/root2/root3/root4/index.html`;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

/** The body hashes to `cid` (every fixture is sha2-256). */
async function expectBlockOf(response: Response, cid: string, length: number): Promise<void> {
  const body = await bytesOf(response);
  expect(body.length).toBe(length);
  expect(hex((await sha256.digest(body)).digest)).toBe(hex(CID.parse(cid).multihash.digest));
}

describe("D. path gateway: raw via path, UnixFS, caching, ranges", () => {
  it("P01 ?format=raw on a path returns the terminal block", async () => {
    const response = await fetchWorker(`/ipfs/${RB_ROOT}/dir?format=raw`);
    expect(response.status).toBe(200);
    await expectBlockOf(response, RB_DIR, 57);
  });

  it("P02 Accept raw with a Range on a path: 206 with that slice of the block", async () => {
    const response = await fetchWorker(`/ipfs/${RB_ROOT}/dir`, { headers: { Accept: RAW, Range: "bytes=6-16" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("Content-Type")).toBe(RAW);
    expect(response.headers.get("Content-Range")).toBe("bytes 6-16/57");
    expect(hex(await bytesOf(response))).toBe("1220e778bb8d3e155f6212");
  });

  it("P03 raw block through a path: X-Ipfs-Path, X-Ipfs-Roots, length, immutable", async () => {
    const response = await fetchWorker(`/ipfs/${RB_ROOT}/dir/ascii.txt`, { headers: { Accept: RAW } });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${RB_ROOT}/dir/ascii.txt`);
    expect(response.headers.get("X-Ipfs-Roots")?.split(",")).toContain(RB_ROOT);
    expect(response.headers.get("Content-Length")).toBe("31");
    expect(response.headers.get("Cache-Control")).toBe(IMMUTABLE);
    expect(await response.text()).toBe("hello application/vnd.ipld.raw\n");
  });

  it("P04 a UnixFS file: Accept-Ranges, type from the extension, length, ETag", async () => {
    const response = await fetchWorker(`/ipfs/${DWF_ROOT}/ascii.txt`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Accept-Ranges")).toBe("bytes");
    expect(response.headers.get("Content-Type")).toBe(TEXT);
    expect(response.headers.get("Content-Length")).toBe("31");
    expect(response.headers.get("Etag")).toBe(`"${ASCII_CAR}"`);
    expect(response.headers.get("Cache-Control")).toBe(IMMUTABLE);
    expect(response.headers.get("X-Ipfs-Roots")).toBe(`${DWF_ROOT},${ASCII_CAR}`);
    expect(response.headers.get("Content-Disposition")).toBeNull();
    expect(await response.text()).toBe("hello application/vnd.ipld.car\n");
  });

  it("P05 Range: bytes=6-16 → 206 application", async () => {
    const response = await fetchWorker(`/ipfs/${DWF_ROOT}/ascii.txt`, { headers: { Range: "bytes=6-16" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("Content-Range")).toBe("bytes 6-16/31");
    expect(response.headers.get("Content-Length")).toBe("11");
    expect(response.headers.get("Content-Type")).toBe(TEXT);
    expect(await response.text()).toBe("application");
  });

  it("P06 Range: bytes=-3 → 206 the last three bytes", async () => {
    const response = await fetchWorker(`/ipfs/${DWF_ROOT}/ascii.txt`, { headers: { Range: "bytes=-3" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("Content-Range")).toBe("bytes 28-30/31");
    expect(await response.text()).toBe("ar\n");
  });

  it("P07 two ranges → 206 multipart/byteranges with both parts (this gateway's choice)", async () => {
    const response = await fetchWorker(`/ipfs/${DWF_ROOT}/ascii.txt`, { headers: { Range: "bytes=6-16,0-4" } });
    expect(response.status).toBe(206);
    const type = response.headers.get("Content-Type") ?? "";
    const boundary = /^multipart\/byteranges; boundary=([0-9a-f]{32})$/.exec(type)?.[1];
    expect(boundary).toBeDefined();
    const expected =
      `--${boundary}\r\nContent-Type: ${TEXT}\r\nContent-Range: bytes 6-16/31\r\n\r\napplication` +
      `\r\n--${boundary}\r\nContent-Type: ${TEXT}\r\nContent-Range: bytes 0-4/31\r\n\r\nhello` +
      `\r\n--${boundary}--\r\n`;
    expect(response.headers.get("Content-Length")).toBe(String(new TextEncoder().encode(expected).length));
    expect(await response.text()).toBe(expected);
  });

  it("P08 a range inside the first block of a file whose middle block is missing", async () => {
    const response = await fetchWorker(`/ipfs/${F3K}`, { headers: { Range: "bytes=997-1000" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("Content-Range")).toBe("bytes 997-1000/3072");
    expect(hex(await bytesOf(response))).toBe("1b68dc33");
  });

  it("P09 a range inside the last block of that file", async () => {
    const response = await fetchWorker(`/ipfs/${F3K}`, { headers: { Range: "bytes=2200-2201" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("Content-Range")).toBe("bytes 2200-2201/3072");
    expect(hex(await bytesOf(response))).toBe("fe00");
  });

  it("P10 a file through four directories: Cache-Control, X-Ipfs-Path, X-Ipfs-Roots, ETag", async () => {
    const response = await fetchWorker(GC_INDEX_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe(IMMUTABLE);
    expect(response.headers.get("X-Ipfs-Path")).toBe(GC_INDEX_PATH);
    expect(response.headers.get("X-Ipfs-Roots")).toBe([GC_R1, GC_R2, GC_R3, GC_R4, GC_INDEX].join(","));
    expect(response.headers.get("Etag")).toBe(`"${GC_INDEX}"`);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(await response.text()).toBe("hello\n");
  });

  it("P11 a directory with index.html serves it, with the directory's ETag", async () => {
    const response = await fetchWorker(`/ipfs/${GC_R1}/root2/root3/root4/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe(IMMUTABLE);
    expect(response.headers.get("X-Ipfs-Roots")).toBe([GC_R1, GC_R2, GC_R3, GC_R4].join(","));
    expect(response.headers.get("Etag")).toBe(`"${GC_R4}"`);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(await response.text()).toBe("hello\n");
  });

  it("P12 a generated listing: DirIndex ETag, roots, and the generated-HTML Cache-Control", async () => {
    const path = `/ipfs/${GC_R1}/root2/root3/`;
    const response = await fetchWorker(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Ipfs-Path")).toBe(path);
    expect(response.headers.get("X-Ipfs-Roots")).toBe([GC_R1, GC_R2, GC_R3].join(","));
    expect(response.headers.get("Etag")).toMatch(new RegExp(`^"DirIndex-[0-9A-F]+_CID-${GC_R3}"$`));
    expect(response.headers.get("Cache-Control")).toBe(GENERATED_HTML);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    const html = await response.text();
    expect(html).toContain(`<a href="${path}root4">root4</a>`);
    expect(html).toContain(`<a href="${path}..">..</a>`);
  });

  it("P13 ?format=raw of a directory through a path with a trailing slash", async () => {
    const response = await fetchWorker(`/ipfs/${GC_R1}/root2/root3/root4/?format=raw`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe(IMMUTABLE);
    expect(hex(await bytesOf(response))).toBe(GC_R4_HEX);
  });

  for (const [id, inm] of [
    ["P14", `"${GC_INDEX}"`],
    ["P15", `"fakeEtag1", "fakeEtag2", "${GC_INDEX}"`],
    ["P16", `W/"${GC_INDEX}"`],
    ["P17", "*"],
  ] as const) {
    it(`${id} If-None-Match: ${inm} → 304`, async () => {
      const response = await fetchWorker(GC_INDEX_PATH, { headers: { "If-None-Match": inm } });
      expect(response.status).toBe(304);
      expect(response.headers.get("Etag")).toBe(`"${GC_INDEX}"`);
      expect(response.headers.get("X-Ipfs-Path")).toBe(GC_INDEX_PATH);
      expect(await response.text()).toBe("");
    });
  }

  it("P18 If-None-Match with the ETag of a directory served through its index.html → 304", async () => {
    const response = await fetchWorker(`/ipfs/${GC_R1}/root2/root3/root4/`, { headers: { "If-None-Match": `"${GC_R4}"` } });
    expect(response.status).toBe(304);
    expect(response.headers.get("Etag")).toBe(`"${GC_R4}"`);
  });

  it("P19 the listing's own ETag, strong or weak, → 304", async () => {
    const path = `/ipfs/${GC_R1}/root2/root3/`;
    const first = await fetchWorker(path);
    const etag = first.headers.get("Etag") ?? "";
    await first.arrayBuffer();
    for (const inm of [etag, `W/${etag}`]) {
      const response = await fetchWorker(path, { headers: { "If-None-Match": inm } });
      expect(response.status).toBe(304);
      expect(response.headers.get("Etag")).toBe(etag);
    }
  });

  it("P22 a directory without its trailing slash → 301 to the form with one", async () => {
    const response = await fetchWorker(`/ipfs/${DL_ROOT}/ą/ę`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("Location")).toBe(`/ipfs/${DL_ROOT}/%C4%85/%C4%99/`);
    await response.arrayBuffer();
  });

  it("P22 the 301 keeps the query string", async () => {
    const response = await fetchWorker(`/ipfs/${DL_ROOT}?filename=x`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("Location")).toBe(`/ipfs/${DL_ROOT}/?filename=x`);
    await response.arrayBuffer();
  });

  it("P23 the listing: Index of, entry links percent-encoded, a parent link", async () => {
    const response = await fetchWorker(`/ipfs/${DL_ROOT}/ą/ę/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Etag")).toContain(`"DirIndex-`);
    const html = await response.text();
    expect(html).toContain("Index of");
    expect(html).toContain(`<a href="/ipfs/${DL_ROOT}/%C4%85/%C4%99/file-%C5%BA%C5%82.txt">file-źł.txt</a>`);
    expect(html).toContain(`<a href="/ipfs/${DL_ROOT}/%C4%85/%C4%99/..">..</a>`);
    expect(html).toContain(`<a href="/ipfs/${DL_FILE}?filename=file-%C5%BA%C5%82.txt"`);
    expect(html.endsWith("</html>\n")).toBe(true);
  });

  it("P24 the root's listing has no parent link", async () => {
    const response = await fetchWorker(`/ipfs/${DL_ROOT}/`);
    const html = await response.text();
    expect(html).toContain("Index of");
    expect(html).not.toContain(`<a href="/ipfs/${DL_ROOT}/">..</a>`);
    expect(html).not.toContain(">..</a>");
    for (const name of ["api", "ipfs", "ipns", "ą"]) expect(html).toContain(`<a href="/ipfs/${DL_ROOT}/${encodeURIComponent(name)}">${name}</a>`);
  });

  it("P25 a path that does not exist → 404", async () => {
    const response = await fetchWorker(`/ipfs/${DL_ROOT}/i-do-not-exist`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("i-do-not-exist");
  });

  it("P26 a symlink is its target text, not followed", async () => {
    const response = await fetchWorker(`/ipfs/${SYM_ROOT}/bar`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("inode/symlink");
    expect(await response.text()).toBe("foo");
  });

  it("P27 the listing of a directory with a symlink, and its raw block", async () => {
    const listing = await fetchWorker(`/ipfs/${SYM_ROOT}/`);
    const html = await listing.text();
    expect(html).toContain(">foo<");
    expect(html).toContain(">bar<");
    const raw = await fetchWorker(`/ipfs/${SYM_ROOT}?format=raw`);
    expect(raw.status).toBe(200);
    const body = await bytesOf(raw);
    expect(body.length).toBe(94);
    expect(hex((await sha256.digest(body)).digest)).toBe(SYM_ROOT_SHA256);
  });

  it("P28 a file name with %, + and spaces, percent-encoded in the path", async () => {
    const response = await fetchWorker(`/ipfs/${PCT_ROOT}/Portugal%252C+España=Peninsula%20Ibérica.txt`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hello from a percent encoded filename\n");
  });

  it("P29 CORS on GET and OPTIONS", async () => {
    const get = await fetchWorker(`/ipfs/${ID_HELLO}/`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe("hello\n");
    const options = await fetchWorker(`/ipfs/${ID_HELLO}/`, { method: "OPTIONS" });
    for (const response of [get, options]) {
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
      const methods = response.headers.get("Access-Control-Allow-Methods")?.split(",").map((s) => s.trim());
      expect(methods).toEqual(expect.arrayContaining(["GET", "HEAD", "OPTIONS"]));
      const allow = response.headers.get("Access-Control-Allow-Headers")?.split(",").map((s) => s.trim());
      expect(allow).toEqual(expect.arrayContaining(["Content-Type", "Range", "User-Agent", "X-Requested-With"]));
      const expose = response.headers.get("Access-Control-Expose-Headers")?.split(",").map((s) => s.trim());
      expect(expose).toEqual(expect.arrayContaining(["Content-Range", "Content-Length", "X-Ipfs-Path", "X-Ipfs-Roots", "X-Chunked-Output", "X-Stream-Output"]));
    }
  });
});

describe("E. path gateway: JSON / CBOR / DAG, TAR", () => {
  it("J01 a raw-codec JSON file without a name: application/json sniffed from its bytes", async () => {
    const response = await fetchWorker(`/ipfs/${TJSON}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("Content-Length")).toBe("37");
    expect(await response.text()).toBe(TJSON_TEXT);
  });

  it("J02 the same with Accept: application/json (a UnixFS file as JSON, IPIP-524 interop exception)", async () => {
    const response = await fetchWorker(`/ipfs/${TJSON}`, { headers: { Accept: "application/json" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("Content-Location")).toBe(`/ipfs/${TJSON}?format=json`);
    expect(await response.text()).toBe(TJSON_TEXT);
  });

  it("J03 ?format=json wins over Accept raw", async () => {
    const response = await fetchWorker(`/ipfs/${TJSON}?format=json`, { headers: { Accept: RAW } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("Etag")).toBe(`"${TJSON}.json"`);
    expect(await response.text()).toBe(TJSON_TEXT);
  });

  it("J04 dag-json / dag-cbor of a raw file → 406", async () => {
    for (const [query, accept] of [["?format=dag-json", undefined], ["?format=dag-cbor", undefined], ["", "application/vnd.ipld.dag-json"]] as const) {
      const response = await fetchWorker(`/ipfs/${DL_FILE}${query}`, accept ? { headers: { Accept: accept } } : {});
      expect(response.status).toBe(406);
      expect(await response.text()).toContain("?format=raw");
    }
  });

  it("J05 a codec mismatch between dag-json and dag-cbor → 406 (no conversion, IPIP-524)", async () => {
    for (const [path, accept] of [
      [`/ipfs/${DAGJSON}?format=dag-cbor`, undefined],
      [`/ipfs/${DAGCBOR}?format=dag-json`, undefined],
      [`/ipfs/${DAGCBOR}`, "application/vnd.ipld.dag-json"],
    ] as const) {
      const response = await fetchWorker(path, accept ? { headers: { Accept: accept } } : {});
      expect(response.status).toBe(406);
      await response.arrayBuffer();
    }
  });

  it("J06 dag-json as-is: no format, ?format=dag-json, Accept dag-json", async () => {
    for (const [query, accept] of [["", undefined], ["?format=dag-json", undefined], ["", "application/vnd.ipld.dag-json"]] as const) {
      const response = await fetchWorker(`/ipfs/${DAGJSON}${query}`, accept ? { headers: { Accept: accept } } : {});
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(DAGJSON_TEXT);
    }
  });

  it("J07 dag-json headers", async () => {
    const response = await fetchWorker(`/ipfs/${DAGJSON}`, { headers: { Accept: "application/vnd.ipld.dag-json" } });
    expect(response.headers.get("Content-Type")).toBe("application/vnd.ipld.dag-json");
    expect(response.headers.get("Content-Length")).toBe("124");
    expect(response.headers.get("Content-Disposition")).toBe(`inline; filename="${DAGJSON}.json"`);
    expect(response.headers.get("Etag")).toBe(`"${DAGJSON}.dag-json"`);
    expect(response.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${DAGJSON}`);
    expect(response.headers.get("X-Ipfs-Roots")).toBe(DAGJSON);
    expect(response.headers.get("Cache-Control")).toBe(IMMUTABLE);
    await response.arrayBuffer();
  });

  it("J08 dag-cbor headers and bytes", async () => {
    const response = await fetchWorker(`/ipfs/${DAGCBOR}`, { headers: { Accept: "application/vnd.ipld.dag-cbor" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/vnd.ipld.dag-cbor");
    expect(response.headers.get("Content-Length")).toBe("76");
    expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="${DAGCBOR}.cbor"`);
    expect(response.headers.get("Etag")).toBe(`"${DAGCBOR}.dag-cbor"`);
    await expectBlockOf(response, DAGCBOR, 76);
  });

  it("J09 dag-cbor as application/cbor and dag-json as application/json: the same bytes", async () => {
    for (const [path, accept, type, cid, length] of [
      [`/ipfs/${DAGCBOR}?format=cbor`, undefined, "application/cbor", DAGCBOR, 76],
      [`/ipfs/${DAGCBOR}`, "application/cbor", "application/cbor", DAGCBOR, 76],
      [`/ipfs/${DAGJSON}?format=json`, undefined, "application/json", DAGJSON, 124],
      [`/ipfs/${DAGJSON}`, "application/json", "application/json", DAGJSON, 124],
    ] as const) {
      const response = await fetchWorker(path, accept ? { headers: { Accept: accept } } : {});
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toBe(type);
      await expectBlockOf(response, cid, length);
    }
  });

  it("J10 ?filename= names the file, keeping inline / attachment", async () => {
    const json = await fetchWorker(`/ipfs/${DAGJSON}?filename=foobar.json`, { headers: { Accept: "application/vnd.ipld.dag-json" } });
    expect(json.headers.get("Content-Disposition")).toBe('inline; filename="foobar.json"');
    const cbor = await fetchWorker(`/ipfs/${DAGCBOR}?filename=foobar.cbor`, { headers: { Accept: "application/vnd.ipld.dag-cbor" } });
    expect(cbor.headers.get("Content-Disposition")).toBe('attachment; filename="foobar.cbor"');
    await Promise.all([json.arrayBuffer(), cbor.arrayBuffer()]);
  });

  it("J11 &download=true makes it an attachment", async () => {
    const json = await fetchWorker(`/ipfs/${DAGJSON}?filename=foobar.json&download=true`, { headers: { Accept: "application/vnd.ipld.dag-json" } });
    expect(json.headers.get("Content-Disposition")).toBe('attachment; filename="foobar.json"');
    const cbor = await fetchWorker(`/ipfs/${DAGCBOR}?filename=foobar.cbor&download=true`, { headers: { Accept: "application/vnd.ipld.dag-cbor" } });
    expect(cbor.headers.get("Content-Disposition")).toBe('attachment; filename="foobar.cbor"');
    await Promise.all([json.arrayBuffer(), cbor.arrayBuffer()]);
  });

  it("J12 HEAD of dag-cbor and dag-json, with and without ?format", async () => {
    for (const [cid, codec, length] of [[DAGCBOR, "dag-cbor", "76"], [DAGJSON, "dag-json", "124"]] as const) {
      const plain = await fetchWorker(`/ipfs/${cid}`, { method: "HEAD" });
      expect(plain.status).toBe(200);
      expect(plain.headers.get("Content-Type")).toBe(`application/vnd.ipld.${codec}`);
      expect(plain.headers.get("Content-Length")).toBe(length);
      expect(await plain.text()).toBe("");
      const formatted = await fetchWorker(`/ipfs/${cid}?format=${codec}`, { method: "HEAD" });
      expect(formatted.status).toBe(200);
      expect(formatted.headers.get("Content-Type")).toBe(`application/vnd.ipld.${codec}`);
      expect(formatted.headers.get("Content-Length")).toBe(length);
      expect(formatted.headers.get("Etag")).toBe(`"${cid}.${codec}"`);
    }
  });

  it("J14 Accept: text/html on dag-cbor / dag-json: the DAG view", async () => {
    for (const cid of [DAGCBOR, DAGJSON]) {
      const response = await fetchWorker(`/ipfs/${cid}/`, { headers: { Accept: "text/html" } });
      expect(response.status).toBe(200);
      expect(response.headers.get("Etag")).toMatch(new RegExp(`^"DagIndex-[0-9A-F]+_CID-${cid}"$`));
      expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("Content-Disposition")).toBeNull();
      expect(response.headers.get("Cache-Control")).toBe(GENERATED_HTML);
      const html = await response.text();
      expect(html).toContain("</html>");
      expect(html).toContain('"banana": 10');
      expect(html).toMatch(/<a href="\/ipfs\/(baguqeera|bafyrei)[a-z2-7]+">/);
    }
  });

  it("J15 a path ending on a value that is not a link → 501", async () => {
    for (const path of [`/ipfs/${DAGJSON}/foo?format=dag-json`, `/ipfs/${DAGCBOR}/foo?format=dag-cbor`]) {
      const response = await fetchWorker(path);
      expect(response.status).toBe(501);
      await response.arrayBuffer();
    }
  });

  it("J16 pathing through dag-json links", async () => {
    const response = await fetchWorker(`/ipfs/${DAGJSON}/foo/link/bar?format=dag-json`);
    expect(response.status).toBe(200);
    expect(JSON.parse(await response.text())).toEqual({ hello: "this is not a link" });
  });

  it("J17 pathing through dag-cbor links", async () => {
    const response = await fetchWorker(`/ipfs/${DAGCBOR}/foo/link/bar?format=dag-cbor`);
    expect(response.status).toBe(200);
    expect(hex(await bytesOf(response))).toBe("a16568656c6c6f7274686973206973206e6f742061206c696e6b");
  });

  it("J18 a missing field → 404", async () => {
    for (const cid of [DAGJSON, DAGCBOR]) {
      const response = await fetchWorker(`/ipfs/${cid}/foo/i-do-not-exist`);
      expect(response.status).toBe(404);
      await response.arrayBuffer();
    }
  });

  it("J19 a json-codec block: whole, as json, and a range of it", async () => {
    for (const [query, accept] of [["", undefined], ["?format=json", undefined], ["", "application/json"]] as const) {
      const response = await fetchWorker(`/ipfs/${PLAINJSON}${query}`, accept ? { headers: { Accept: accept } } : {});
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("application/json");
      expect(response.headers.get("Content-Disposition")).toBe(`inline; filename="${PLAINJSON}.json"`);
      expect(await response.text()).toBe(PLAINJSON_TEXT);
    }
    const ranged = await fetchWorker(`/ipfs/${PLAINJSON}`, { headers: { Range: "bytes=7-9" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("Content-Range")).toBe("bytes 7-9/26");
    expect(await ranged.text()).toBe('t":');
  });

  it("J20 a cbor-codec block: attachment, and two ranges as multipart with application/cbor parts", async () => {
    for (const [query, accept] of [["", undefined], ["?format=cbor", undefined], ["", "application/cbor"]] as const) {
      const response = await fetchWorker(`/ipfs/${PLAINCBOR}${query}`, accept ? { headers: { Accept: accept } } : {});
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("application/cbor");
      expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="${PLAINCBOR}.cbor"`);
      expect(hex(await bytesOf(response))).toBe(PLAINCBOR_HEX);
    }
    const multi = await fetchWorker(`/ipfs/${PLAINCBOR}`, { headers: { Range: "bytes=7-9,1-3" } });
    expect(multi.status).toBe(206);
    const boundary = /boundary=(\w+)$/.exec(multi.headers.get("Content-Type") ?? "")?.[1];
    const body = await bytesOf(multi);
    const enc = new TextEncoder();
    const block = Uint8Array.from(PLAINCBOR_HEX.match(/../g)!.map((h) => parseInt(h, 16)));
    const parts = [
      enc.encode(`--${boundary}\r\nContent-Type: application/cbor\r\nContent-Range: bytes 7-9/17\r\n\r\n`),
      block.subarray(7, 10),
      enc.encode(`\r\n--${boundary}\r\nContent-Type: application/cbor\r\nContent-Range: bytes 1-3/17\r\n\r\n`),
      block.subarray(1, 4),
      enc.encode(`\r\n--${boundary}--\r\n`),
    ];
    expect(hex(body)).toBe(parts.map(hex).join(""));
  });

  it("X01 ?format=tar (and Accept) of a file: one entry named after the CID", async () => {
    for (const init of [{}, { headers: { Accept: "application/x-tar" } }]) {
      const query = "headers" in init ? "" : "?format=tar";
      const response = await fetchWorker(`/ipfs/${DL_FILE}${query}`, init);
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="${DL_FILE}.tar"`);
      expect(response.headers.get("Etag")).toBe(`W/"${DL_FILE}.x-tar"`);
      expect(response.headers.get("Content-Type")).toBe("application/x-tar");
      const entries = readTar(await bytesOf(response));
      expect(entries.map((e) => [e.name, e.type, new TextDecoder().decode(e.content)])).toEqual([[DL_FILE, "0", DL_FILE_TEXT]]);
    }
  });

  it("X02 ?format=tar of a directory: every entry under the CID, UTF-8 names", async () => {
    const response = await fetchWorker(`/ipfs/${DL_ROOT}?format=tar`);
    expect(response.status).toBe(200);
    const entries = readTar(await bytesOf(response));
    const file = entries.find((e) => e.name === `${DL_ROOT}/ą/ę/file-źł.txt`);
    expect(file && new TextDecoder().decode(file.content)).toBe(DL_FILE_TEXT);
    expect(entries[0]).toMatchObject({ name: `${DL_ROOT}/`, type: "5" });
    expect(entries.map((e) => e.name)).toEqual([
      `${DL_ROOT}/`,
      `${DL_ROOT}/api/`,
      `${DL_ROOT}/api/file.txt`,
      `${DL_ROOT}/ipfs/`,
      `${DL_ROOT}/ipfs/file.txt`,
      `${DL_ROOT}/ipns/`,
      `${DL_ROOT}/ipns/file.txt`,
      `${DL_ROOT}/ą/`,
      `${DL_ROOT}/ą/ę/`,
      `${DL_ROOT}/ą/ę/file-źł.txt`,
    ]);
  });

  it("X03 ?filename= with non-ASCII characters: ASCII fallback and filename*", async () => {
    const response = await fetchWorker(`/ipfs/${DL_ROOT}?filename=testтест.tar&format=tar`);
    expect(response.headers.get("Content-Disposition")).toBe(
      `attachment; filename="test____.tar"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.tar`,
    );
    await response.arrayBuffer();
  });

  it("X04 an entry escaping the root is refused; one that stays inside is written cleaned", async () => {
    const out = await fetchWorker(`/ipfs/${TAR_OUT}?format=tar`);
    expect(out.status).toBe(406);
    expect(await out.text()).toContain("outside the archive's root");
    const inside = await fetchWorker(`/ipfs/${TAR_IN}?format=tar`);
    expect(inside.status).toBe(200);
    const entries = readTar(await bytesOf(inside));
    expect(entries.map((e) => e.name)).toContain(`${TAR_IN}/foobar/file`);
  });
});
