import { HttpError } from "../http/errors";

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Normalises a DNSLink name (lowercase, no trailing dot) and checks it is a
 * DNS name: labels of 1-63 letters, digits, `-` or `_`, at most 253
 * characters, at least two labels.
 *
 * @throws HttpError bad_request
 */
export function normalizeDomain(input: string): string {
  const domain = input.toLowerCase().replace(/\.$/, "");
  const labels = domain.split(".");
  if (domain.length > 253 || labels.length < 2 || !labels.every((label) => LABEL.test(label))) {
    throw new HttpError("bad_request", `invalid DNSLink name "${input.slice(0, 100)}"`);
  }
  return domain;
}

/**
 * Inlines a DNSLink name into one DNS label for subdomain gateways
 * (subdomain-gateway spec "Host": every `-` becomes `--`, then every `.`
 * becomes `-`).
 *
 * @example encodeDnslinkLabel("en.wikipedia-on-ipfs.org") // "en-wikipedia--on--ipfs-org"
 */
export function encodeDnslinkLabel(domain: string): string {
  return domain.replaceAll("-", "--").replaceAll(".", "-");
}

/**
 * The inverse of `encodeDnslinkLabel`: every standalone `-` becomes `.`,
 * every remaining `--` becomes `-`.
 *
 * @example decodeDnslinkLabel("dnslink--test-example-org") // "dnslink-test.example.org"
 */
export function decodeDnslinkLabel(label: string): string {
  return label
    .split("--")
    .map((part) => part.replaceAll("-", "."))
    .join("-");
}
