/**
 * The schemas of the IPFS Pinning Service API v1.0.0
 * (ipfs-pinning-service.yaml, components.schemas), copied as JSON for the
 * service's OpenAPI document: `/psa` implements that spec, and its paths
 * in src/openapi/document.ts reference these.
 */
export const PSA_SPEC_URL = "https://ipfs.github.io/pinning-services-api-spec/";

export const PSA_SCHEMAS = {
  PinResults: {
    description: "Response used for listing pin objects matching request",
    type: "object",
    required: ["count", "results"],
    properties: {
      count: { description: "The total number of pin objects that exist for passed query filters", type: "integer", format: "int32", minimum: 0 },
      results: { description: "An array of PinStatus results", type: "array", items: { $ref: "#/components/schemas/PinStatus" }, uniqueItems: true, minItems: 0, maxItems: 1000 },
    },
  },
  PinStatus: {
    description: "Pin object with status",
    type: "object",
    required: ["requestid", "status", "created", "pin", "delegates"],
    properties: {
      requestid: { description: "Globally unique identifier of the pin request", type: "string" },
      status: { $ref: "#/components/schemas/Status" },
      created: { description: "When the pin request entered the service (RFC 3339)", type: "string", format: "date-time" },
      pin: { $ref: "#/components/schemas/Pin" },
      delegates: { $ref: "#/components/schemas/Delegates" },
      info: { $ref: "#/components/schemas/StatusInfo" },
    },
  },
  Pin: {
    description: "Pin object",
    type: "object",
    required: ["cid"],
    properties: {
      cid: { description: "Content Identifier (CID) to be pinned recursively", type: "string" },
      name: { description: "Optional name for pinned data; can be used for lookups later", type: "string", maxLength: 255 },
      origins: { $ref: "#/components/schemas/Origins" },
      meta: { $ref: "#/components/schemas/PinMeta" },
    },
  },
  Status: { description: "Status a pin object can have at a pinning service", type: "string", enum: ["queued", "pinning", "pinned", "failed"] },
  Delegates: {
    description: "List of multiaddrs designated by pinning service for transferring any new data from external peers",
    type: "array", items: { type: "string" }, uniqueItems: true, minItems: 1, maxItems: 20,
  },
  Origins: { description: "Optional list of multiaddrs known to provide the data", type: "array", items: { type: "string" }, uniqueItems: true, minItems: 0, maxItems: 20 },
  PinMeta: { description: "Optional metadata for pin object", type: "object", additionalProperties: { type: "string" } },
  StatusInfo: { description: "Optional info for PinStatus response", type: "object", additionalProperties: { type: "string" } },
  TextMatchingStrategy: { description: "Alternative text matching strategy", type: "string", default: "exact", enum: ["exact", "iexact", "partial", "ipartial"] },
  Failure: {
    description: "Response for a failed request",
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["reason"],
        properties: {
          reason: { type: "string", description: "Mandatory string identifying the type of error" },
          details: { type: "string", description: "Optional, longer description of the error" },
        },
      },
    },
  },
} as const;
