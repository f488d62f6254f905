/**
 * Parses an RFC 3339 timestamp as IPNS writes `Validity`
 * (`2123-08-14T12:17:03.694052Z`, up to nanosecond precision; IPNS spec
 * "Validity"). Returns milliseconds since the epoch (sub-millisecond digits
 * truncated), or null when the text is not a valid RFC 3339 date-time.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export function parseRfc3339(text: string): number | null {
  const m = RFC3339.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, ms);
  // Date.UTC-style arithmetic rolls 31 April over to 1 May: refuse such dates.
  if (utc.getUTCDate() !== day || utc.getUTCMonth() !== month - 1) return null;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return utc.getTime() - offsetMinutes * 60_000;
}
