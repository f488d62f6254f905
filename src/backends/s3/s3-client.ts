import { AwsV4Signer } from "aws4fetch";
import { backendFetch, errorBodyText, errorForStatus } from "../backend-http";
import type { BackendError } from "../replication-backend";

export interface S3Location {
  /** Service endpoint without the bucket, e.g. `https://<account>.r2.cloudflarestorage.com`, `https://s3.filebase.com`. */
  endpoint: string;
  bucket: string;
  /** SigV4 region: `auto` for R2, `us-east-1` for Filebase, the bucket's region for AWS. */
  region: string;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Request {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  key: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A stream must have a known length (a `FixedLengthStream`): S3 refuses chunked uploads without it. */
  body?: ReadableStream<Uint8Array> | Uint8Array | string;
  signal?: AbortSignal;
}

/**
 * One signed S3 request (path-style URLs, SigV4 with `aws4fetch`'s signer,
 * `UNSIGNED-PAYLOAD` so a streamed body is never hashed twice; TLS carries
 * its integrity). No retry here: the replication engine retries
 * (replication-backend.ts). The secret only enters the signature; the URL
 * carries nothing but the bucket, key and S3 sub-resources.
 */
export class S3Client {
  readonly #location: S3Location;
  readonly #credentials: () => S3Credentials;

  constructor(location: S3Location, credentials: () => S3Credentials) {
    this.#location = location;
    this.#credentials = credentials;
  }

  get bucket(): string {
    return this.#location.bucket;
  }

  /** Path-style URL of an object: `{endpoint}/{bucket}/{key}` (each key segment URI-encoded). */
  objectUrl(key: string): string {
    const path = key.split("/").map(encodeURIComponent).join("/");
    return `${this.#location.endpoint}/${encodeURIComponent(this.#location.bucket)}/${path}`;
  }

  /** Signs and sends; resolves whatever status came back (callers decide what is a success). */
  async send(request: S3Request): Promise<Response> {
    const url = new URL(this.objectUrl(request.key));
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    const signer = new AwsV4Signer({
      ...this.#credentials(),
      url: url.toString(),
      method: request.method,
      headers: request.headers ?? {},
      service: "s3",
      region: this.#location.region,
    });
    const signed = await signer.sign();
    return backendFetch(`S3 ${request.method}`, signed.url.toString(), {
      method: request.method,
      headers: signed.headers,
      body: request.body ?? null,
      signal: request.signal,
    });
  }

  /** The mapped error of a failed response, with S3's XML `<Code>` in the message. */
  async error(what: string, response: Response): Promise<BackendError> {
    return errorForStatus(what, response, s3ErrorCode(await errorBodyText(response, 600)));
  }
}

/** `<Code>NoSuchUpload</Code>` → `NoSuchUpload` (S3 error responses, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). */
export function s3ErrorCode(xml: string): string {
  return /<Code>([^<]{1,64})<\/Code>/.exec(xml)?.[1] ?? "";
}
