import { describe, expect, it } from "vitest";
import { HttpError } from "../../../src/http/errors";
import { decideFormat, parseAccept } from "../../../src/gateway/request/response-format";

const u = (q: string) => new URL("http://gw.test/ipfs/bafkqaaa" + q);

describe("decideFormat", () => {
  it("format= wins over Accept (IPIP-523, R08/R09)", () => {
    expect(decideFormat(u("?format=car"), "application/vnd.ipld.raw")).toMatchObject({ kind: "car", fromAccept: false });
    expect(decideFormat(u("?format=raw"), "application/vnd.ipld.car")).toMatchObject({ kind: "raw", fromAccept: false });
  });

  it("reads Accept with parameters and q-values", () => {
    expect(decideFormat(u(""), "application/vnd.ipld.car; version=1; order=dfs; dups=y")).toEqual({
      kind: "car",
      fromAccept: true,
      car: { version: 1, order: "dfs", dups: true },
    });
    expect(decideFormat(u(""), "text/plain;q=0.9, application/vnd.ipld.raw;q=0.5").kind).toBe("raw");
    expect(decideFormat(u(""), "application/vnd.ipld.raw;q=0.1, application/vnd.ipld.car;q=0.8").kind).toBe("car");
    expect(decideFormat(u(""), "application/vnd.ipld.raw;q=0").kind).toBe("default");
    expect(decideFormat(u(""), null).kind).toBe("default");
  });

  it("defaults dups to n and lets URL car params beat Accept (C31, C32)", () => {
    expect(decideFormat(u("?format=car"), null).car.dups).toBe(false);
    expect(decideFormat(u("?format=car&car-dups=y"), "application/vnd.ipld.car; dups=n").car.dups).toBe(true);
    expect(decideFormat(u("?format=car&car-dups=n"), "application/vnd.ipld.car; dups=y").car.dups).toBe(false);
    expect(decideFormat(u("?format=car&car-order=dfs"), "application/vnd.ipld.car; order=unk").car.order).toBe("dfs");
  });

  it("rejects unknown formats and CAR versions with 400", () => {
    const cases: [string, string | null, string][] = [
      ["?format=zip", null, 'invalid format "zip"'],
      ["?format=car&car-version=2", null, 'unsupported car-version "2"'],
      ["", "application/vnd.ipld.car; version=2", "unsupported CAR version"],
      ["?format=car&car-dups=maybe", null, 'invalid car-dups "maybe"'],
      ["?format=car&car-order=bfs", null, 'invalid car-order "bfs"'],
    ];
    for (const [q, accept, message] of cases) {
      try {
        decideFormat(u(q), accept);
        throw new Error(`no error for ${q} ${accept}`);
      } catch (e) {
        expect(e).toBeInstanceOf(HttpError);
        expect((e as HttpError).status).toBe(400);
        expect((e as HttpError).message).toContain(message);
      }
    }
  });

  it("parseAccept keeps client order on ties and drops q=0", () => {
    expect(parseAccept("a/b, c/d;q=1, e/f;q=0, g/h;q=0.5").map((e) => e.type)).toEqual(["a/b", "c/d", "g/h"]);
  });
});
