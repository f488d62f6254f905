import { describe, expect, it } from "vitest";
import { parseRfc3339 } from "../../src/ipns/rfc3339";

describe("parseRfc3339", () => {
  it("reads IPNS validity strings with up to nanosecond precision", () => {
    expect(parseRfc3339("2123-08-14T12:17:03.694052Z")).toBe(Date.UTC(2123, 7, 14, 12, 17, 3, 694));
    expect(parseRfc3339("2126-01-31T15:56:12.714899293Z")).toBe(Date.UTC(2126, 0, 31, 15, 56, 12, 714));
    expect(parseRfc3339("1970-01-01T00:00:00.000000001Z")).toBe(0);
    expect(parseRfc3339("2024-02-29T23:59:59Z")).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
  });

  it("applies numeric offsets", () => {
    expect(parseRfc3339("2024-01-01T02:30:00+02:30")).toBe(Date.UTC(2024, 0, 1, 0, 0, 0));
    expect(parseRfc3339("2023-12-31T23:00:00-01:00")).toBe(Date.UTC(2024, 0, 1, 0, 0, 0));
  });

  it("refuses what is not an RFC 3339 date-time", () => {
    for (const text of [
      "",
      "2024-01-01",
      "2024-01-01 00:00:00Z",
      "2024-01-01T00:00:00",
      "2024-02-30T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-01-01T24:00:00Z",
      "2024-01-01T00:00:00.1234567890Z",
      "2024-01-01T00:00:00+24:00",
      " 2024-01-01T00:00:00Z",
    ]) {
      expect(parseRfc3339(text), text).toBeNull();
    }
  });
});
