/**
 * The OpenAPI 3.1 document of the service's own HTTP API, served at
 * `GET /api/v1/openapi.json` and rendered at `/api/docs`.
 *
 * Hand-maintained next to the routes (docs/operations.md "OpenAPI" says
 * why: describing ~30 existing Hono routes with `hono-openapi` would mean a
 * validator library and edits to every route file). What keeps it true:
 * test/openapi/openapi-document.test.ts validates it against the OpenAPI
 * 3.1 schema and checks that every route mounted in src/worker.ts (read
 * from the app itself) is described here, so a route added without its
 * entry fails the suite.
 *
 * `/psa` is the IPFS Pinning Service API v1.0.0: its schemas are that
 * spec's (src/openapi/psa-schemas.ts). The gateway paths (`/ipfs`,
 * `/ipns`) are specified by the IPFS HTTP Gateway specs and only outlined.
 */
import { PSA_SCHEMAS, PSA_SPEC_URL } from "./psa-schemas";

type Json = Record<string, unknown>;

const text = (description: string) => ({ description, content: { "text/plain": { schema: { type: "string" } } } });
const json = (description: string, schema: Json) => ({ description, content: { "application/json": { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const failure = (description: string) => json(description, ref("Failure"));
const noContent = (description: string) => ({ description });
const pathParam = (name: string, description: string, schema: Json = { type: "string" }) => ({ name, in: "path", required: true, description, schema });
const query = (name: string, description: string, schema: Json = { type: "string" }) => ({ name, in: "query", required: false, description, schema });

const OPERATOR = [{ operatorToken: [] }];
const ACCOUNT = [{ apiToken: [] }];
const EITHER = [{ apiToken: [] }, { operatorToken: [] }];

/** Errors every operator route can answer (src/http/error-response.ts: plain text, one line). */
const operatorErrors = { "400": text("Malformed request (the message says what)"), "401": text("Operator token missing or invalid") };

const psaErrors = {
  "400": failure("Bad request (BAD_REQUEST)"),
  "401": failure("Unauthorized: access token is missing or invalid"),
  "404": failure("The specified resource was not found"),
  "409": failure("Insufficient funds: a quota of the account is reached (INSUFFICIENT_FUNDS)"),
  "5XX": failure("Unexpected internal server error"),
};

const gatewayGet = (namespace: "ipfs" | "ipns") => ({
  tags: ["Gateway"],
  summary: namespace === "ipfs" ? "Content by CID (path and trustless gateway)" : "Content by IPNS name or DNSLink domain",
  description:
    (namespace === "ipfs"
      ? "`/ipfs/{cid}[/path]`: verified content. `?format=raw|car|tar|dag-json|dag-cbor|json|cbor` or `Accept` picks the response; CAR requests take `dag-scope`, `entity-bytes`, `car-dups`. "
      : "`/ipns/{name}[/path]`: the IPNS record (signature and validity checked) or DNSLink, then the `/ipfs/` content; `?format=ipns-record`. ") +
    "Specified by the IPFS HTTP Gateway specs (path-gateway, trustless-gateway, IPIP-402/412/523/524).",
  externalDocs: { url: "https://specs.ipfs.tech/http-gateways/" },
  parameters: [
    pathParam(namespace === "ipfs" ? "cid" : "name", namespace === "ipfs" ? "A CID, optionally followed by /path" : "An IPNS key or a DNSLink domain, optionally followed by /path"),
    query("format", "raw, car, tar, dag-json, dag-cbor, json, cbor" + (namespace === "ipns" ? ", ipns-record" : "")),
  ],
  responses: {
    "200": { description: "The content, every block verified against its CID" },
    "206": { description: "Partial content (Range)" },
    "301": { description: "Redirect to the subdomain gateway, or to add a trailing slash to a directory" },
    "304": { description: "Not modified (If-None-Match)" },
    "400": text("Invalid CID, path or parameter"),
    "404": text("No upstream has the content"),
    "410": text("Denied by a denylist"),
    "412": text("Cache-Control: only-if-cached and not cached here"),
    "451": text("Unavailable for legal reasons (denylist)"),
    "502": text("Upstreams failed or sent content that did not verify"),
    "504": text("Upstreams did not answer in time"),
  },
});

/** HTML page answers of the dashboard (src/dashboard/routes.tsx): errors are pages too, with the status. */
const html = (description: string) => ({ description, content: { "text/html": { schema: { type: "string" } } } });
const seeOther = (description: string) => ({ description, headers: { Location: { schema: { type: "string" } } } });
const SESSION = [{ dashboardSession: [] }];
/** Every page behind the session: no session → sign-in (303 for GET, 401 page for a POST, 401 + HX-Redirect for htmx). */
const pageErrors = { "303": seeOther("No session: to /dashboard/sign-in"), "400": html("Invalid parameter (the page says which)"), "401": html("Session ended (POST, or htmx with HX-Redirect)") };
/** Every POST behind the session: same origin, CSRF token of the session, bounded form body. */
const formPost = (summary: string, fields: Json, description?: string) => ({
  tags: ["Dashboard"], summary, security: SESSION, ...(description ? { description } : {}),
  requestBody: { required: true, content: { "application/x-www-form-urlencoded": { schema: { type: "object", required: ["csrf"], properties: { csrf: { type: "string" }, account: { type: "string", description: "Operator view: the account acted on" }, ...fields } } } } },
  responses: {
    "303": seeOther("Done: back to /dashboard/pins with the result (or to sign-in without a session)"),
    "400": html("Invalid form or value; the panel again with the reason"),
    "401": html("Session ended; nothing was changed"),
    "403": html("Cross-origin form or CSRF token mismatch; nothing was changed"),
    "404": html("No such pin"),
    "409": html("Refused (a quota, or the pin's state)"),
    "413": html("Form body too large"),
  },
});
const page = (summary: string, params: Json[] = []) => ({
  tags: ["Dashboard"], summary, security: SESSION, parameters: [query("account", "Operator view: the account shown"), ...params],
  responses: { "200": html("The page"), ...pageErrors },
});
const asset = (summary: string, type: string) => ({ tags: ["Dashboard"], summary, security: [], responses: { "200": { description: "The asset (cached an hour)", content: { [type]: { schema: { type: "string" } } } } } });

const DASHBOARD_PATHS: Record<string, Json> = {
  "/dashboard": { get: { tags: ["Dashboard"], summary: "To the pins panel", security: SESSION, responses: { "303": seeOther("To /dashboard/pins (or to sign-in without a session)") } } },
  "/dashboard/sign-in": {
    get: { tags: ["Dashboard"], summary: "Sign-in page (with a session: to the pins panel)", security: [], responses: { "200": html("The form"), "303": seeOther("Already signed in: to /dashboard/pins") } },
    post: {
      tags: ["Dashboard"], summary: "Sign in with an API token or the operator token (kept in an HttpOnly cookie, 12 hours)", security: [],
      requestBody: { required: true, content: { "application/x-www-form-urlencoded": { schema: { type: "object", required: ["token"], properties: { token: { type: "string" } } } } } },
      responses: {
        "303": { ...seeOther("Signed in: to /dashboard/pins"), headers: { Location: { schema: { type: "string" } }, "Set-Cookie": { description: "__Host-ike-dashboard session cookie", schema: { type: "string" } } } },
        "400": html("Not a form body"),
        "401": html("Unknown, revoked or mistyped token"),
        "403": html("Cross-origin form"),
        "413": html("Form body too large"),
      },
    },
  },
  "/dashboard/sign-out": {
    post: { tags: ["Dashboard"], summary: "Sign out (clears the cookie)", security: SESSION, responses: { "303": seeOther("To /dashboard/sign-in"), "401": html("No session"), "403": html("Cross-origin form or CSRF mismatch") } },
  },
  "/dashboard/pins": {
    get: page("Pins panel: the account's pins with filters, replicas, and the pin/upload forms", [
      query("status", "queued, pinning, pinned or failed"), query("name", "Name contains"), query("from", "Created from (YYYY-MM-DD)"), query("to", "Created up to (YYYY-MM-DD)"),
    ]),
    post: formPost("Pin a CID", { cid: { type: "string" }, name: { type: "string" } }),
  },
  "/dashboard/pins/table": {
    get: {
      ...page("The pins table alone (htmx live refresh)", [query("status", "As the panel"), query("name", "As the panel"), query("from", "As the panel"), query("to", "As the panel")]),
      responses: { "200": html("The table fragment"), ...pageErrors },
    },
  },
  "/dashboard/upload": {
    post: {
      ...formPost("Upload a file or a CAR (up to the form limit; larger ones with POST /api/v1/upload)", {}),
      requestBody: { required: true, content: { "multipart/form-data": { schema: { type: "object", required: ["csrf", "file"], properties: { csrf: { type: "string" }, account: { type: "string" }, name: { type: "string" }, file: { type: "string", format: "binary" } } } } } },
    },
  },
  "/dashboard/pins/{requestid}/unpin": { post: { ...formPost("Remove a pin", {}), parameters: [pathParam("requestid", "Pin request id")] } },
  "/dashboard/pins/{requestid}/retry": { post: { ...formPost("Retry a failed pin (re-created with the same CID, name, origins, meta)", {}), parameters: [pathParam("requestid", "Pin request id")] } },
  "/dashboard/gateways": { get: page("Gateways panel: upstream health of a region and its history", [query("region", "A colo code, or local")]) },
  "/dashboard/content": { get: page("Content look-up: a CID in the cache, R2, pins, and (test=1) a verified fetch through the gateway", [query("cid", "A CID"), query("test", "1: run a verified fetch")]) },
  "/dashboard/usage": { get: page("Usage and cost: storage against quotas, estimated monthly cost per backend, budget alert; the operator also sees a region's requests and bytes served over 24 hours", [query("region", "Operator view: the region whose traffic is shown (default: the one serving the page)", { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" })]) },
  "/dashboard/assets/dashboard.css": { get: asset("The dashboard's stylesheet", "text/css") },
  "/dashboard/assets/htmx.min.js": { get: asset("htmx (served here, no third-party origin)", "text/javascript") },
  "/dashboard/assets/htmx.LICENSE.txt": { get: asset("htmx's licence", "text/plain") },
};

const PATHS: Record<string, Json> = {
  "/ipfs/{cid}": {
    get: gatewayGet("ipfs"),
    head: { ...gatewayGet("ipfs"), summary: "Headers of content by CID" },
    options: { tags: ["Gateway"], summary: "CORS preflight", parameters: [pathParam("cid", "A CID")], responses: { "200": { description: "CORS headers" } } },
  },
  "/ipns/{name}": { get: gatewayGet("ipns"), head: { ...gatewayGet("ipns"), summary: "Headers of content by IPNS name" } },

  "/api/v1/health/gateways": {
    get: {
      tags: ["Gateway"],
      summary: "Upstream health of a region",
      parameters: [query("region", "A colo code, or local (default: the region serving the request)", { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" })],
      responses: { "200": json("Upstreams in the order the gateway would try them", ref("HealthView")), "400": text("Invalid region") },
    },
  },
  "/api/v1/providers/{cid}": {
    get: {
      tags: ["Gateway"],
      summary: "HTTP gateway providers of a CID (delegated routing / IPNI)",
      parameters: [pathParam("cid", "A CID")],
      responses: { "200": json("Providers found, and what each router answered", ref("Providers")), "400": text("Invalid CID") },
    },
  },

  "/api/v1/tokens": {
    post: {
      tags: ["Operator"], summary: "Mint an API token (a new account, or another token of an account)", security: OPERATOR,
      requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["name"], properties: { name: { type: "string", minLength: 1, maxLength: 255 }, account: { type: "string" } } } } } },
      responses: { "201": json("The token, shown once", ref("MintedToken")), ...operatorErrors, "404": text("No such account") },
    },
    get: {
      tags: ["Operator"], summary: "List API tokens (never the token itself)", security: OPERATOR,
      parameters: [query("account", "Only this account's tokens")],
      responses: { "200": json("Tokens", { type: "object", required: ["tokens"], properties: { tokens: { type: "array", items: ref("TokenRecord") } } }), ...operatorErrors },
    },
  },
  "/api/v1/tokens/{id}": {
    delete: {
      tags: ["Operator"], summary: "Revoke an API token", security: OPERATOR, parameters: [pathParam("id", "The token's id")],
      responses: { "204": noContent("Revoked: refused from now on"), ...operatorErrors, "404": text("No such token") },
    },
  },
  "/api/v1/accounts/{account}/webhook-secrets": {
    put: {
      tags: ["Operator"], summary: "Set the secrets webhooks of an account are signed with", security: OPERATOR, parameters: [pathParam("account", "Account id")],
      requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["secrets"], properties: { secrets: { type: "array", maxItems: 10, items: { type: "string", minLength: 16, maxLength: 1024 } } } } } } },
      responses: { "204": noContent("Set"), ...operatorErrors, "404": text("No such account") },
    },
  },
  "/api/v1/accounts/{account}/limits": {
    get: {
      tags: ["Operator"], summary: "Quotas and usage of an account", security: OPERATOR, parameters: [pathParam("account", "Account id")],
      responses: { "200": json("Limits and usage", ref("LimitsAndUsage")), ...operatorErrors, "404": text("No such account") },
    },
    put: {
      tags: ["Operator"], summary: "Change quotas of an account", security: OPERATOR, parameters: [pathParam("account", "Account id")],
      requestBody: { required: true, content: { "application/json": { schema: ref("Limits") } } },
      responses: { "200": json("Limits and usage", ref("LimitsAndUsage")), ...operatorErrors, "404": text("No such account") },
    },
  },
  "/api/v1/denylist": {
    post: {
      tags: ["Operator"], summary: "Add a denylist entry (IPIP-383 line)", security: OPERATOR,
      requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["entry"], properties: { entry: { type: "string", maxLength: 4096 }, status: { type: "integer", enum: [410, 451] } } } } } },
      responses: { "201": json("The entry", ref("DenylistEntry")), ...operatorErrors, "409": text("Already listed"), "413": text("Body too large") },
    },
    get: {
      tags: ["Operator"], summary: "The operator's denylist entries", security: OPERATOR,
      responses: { "200": json("Entries", { type: "object", required: ["entries"], properties: { entries: { type: "array", items: ref("DenylistEntry") } } }), ...operatorErrors },
    },
  },
  "/api/v1/denylist/{id}": {
    delete: {
      tags: ["Operator"], summary: "Remove a denylist entry", security: OPERATOR, parameters: [pathParam("id", "Entry id", { type: "integer", minimum: 1 })],
      responses: { "204": noContent("Removed"), ...operatorErrors, "404": text("No such entry") },
    },
  },
  "/api/v1/denylist/lists": {
    get: {
      tags: ["Operator"], summary: "State of each configured denylist (DENYLIST_URLS)", security: OPERATOR,
      responses: { "200": json("Lists", { type: "object", required: ["lists"], properties: { lists: { type: "array", items: { type: "object" } } } }), ...operatorErrors },
    },
  },

  "/api/v1/upload": {
    post: {
      tags: ["Pinning"], summary: "Upload a CAR or a file; pinned and served from R2 at once", security: ACCOUNT,
      parameters: [query("name", "Name of the pin(s)")],
      requestBody: {
        required: true,
        content: { "application/vnd.ipld.car": { schema: { type: "string", format: "binary" } }, "application/octet-stream": { schema: { type: "string", format: "binary" } } },
      },
      responses: {
        "201": json("Pinned", ref("UploadResult")),
        "400": text("Invalid CAR, a block that does not match its CID, or an incomplete DAG"),
        "401": text("Access token is missing or invalid"),
        "409": text("The upload exceeds the account's storage quota"),
      },
    },
  },
  "/api/v1/audit": {
    get: {
      tags: ["Pinning"], summary: "An account's audit trail, newest first", security: EITHER,
      description: "An API token reads its own account; the operator names one with `account`.",
      parameters: [
        query("account", "Account id (required with the operator token)"),
        query("before", "Continue before this seq (the previous page's next)", { type: "integer", minimum: 0 }),
        query("limit", "Entries per page", { type: "integer", minimum: 1, maximum: 1000, default: 100 }),
        query("action", "Only this action", { type: "string", enum: ["pin.create", "pin.replace", "pin.delete", "pin.upload", "pin.pinned", "pin.failed", "token.mint", "token.revoke", "limits.set", "webhook_secrets.set"] }),
      ],
      responses: {
        "200": json("A page of entries", ref("AuditPage")),
        "400": text("Invalid parameter"),
        "401": text("Access token is missing or invalid"),
        "403": text("An API token reads its own account's audit trail only"),
        "404": text("No such account"),
      },
    },
  },

  "/psa/pins": {
    get: {
      tags: ["Pinning Service API"], summary: "List pin objects", security: ACCOUNT, externalDocs: { url: PSA_SPEC_URL },
      parameters: [
        query("cid", "Comma-separated CIDs (at most 10)"),
        query("name", "Pin name"),
        query("match", "How name is matched", ref("TextMatchingStrategy")),
        query("status", "Comma-separated statuses", { type: "string" }),
        query("before", "Created before (RFC 3339)", { type: "string", format: "date-time" }),
        query("after", "Created after (RFC 3339)", { type: "string", format: "date-time" }),
        query("limit", "Max records to return", { type: "integer", minimum: 1, maximum: 1000, default: 10 }),
        query("meta", "JSON object of meta key/values to match"),
      ],
      responses: { "200": json("Successful response (PinResults object)", ref("PinResults")), ...psaErrors },
    },
    post: {
      tags: ["Pinning Service API"], summary: "Add pin object", security: ACCOUNT, externalDocs: { url: PSA_SPEC_URL },
      requestBody: { required: true, content: { "application/json": { schema: ref("Pin") } } },
      responses: { "202": json("Successful response (PinStatus object)", ref("PinStatus")), ...psaErrors },
    },
  },
  "/psa/pins/{requestid}": {
    get: {
      tags: ["Pinning Service API"], summary: "Get pin object", security: ACCOUNT, parameters: [pathParam("requestid", "Pin request id")],
      responses: { "200": json("Successful response (PinStatus object)", ref("PinStatus")), ...psaErrors },
    },
    post: {
      tags: ["Pinning Service API"], summary: "Replace pin object", security: ACCOUNT, parameters: [pathParam("requestid", "Pin request id")],
      requestBody: { required: true, content: { "application/json": { schema: ref("Pin") } } },
      responses: { "202": json("Successful response (PinStatus object)", ref("PinStatus")), ...psaErrors },
    },
    delete: {
      tags: ["Pinning Service API"], summary: "Remove pin object", security: ACCOUNT, parameters: [pathParam("requestid", "Pin request id")],
      responses: { "202": noContent("Successful response (no body, pin removed)"), ...psaErrors },
    },
  },

  "/webhooks/pin": {
    post: {
      tags: ["Pinning"], summary: "A signed webhook creates a pin",
      description: "Signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) or GitHub's `X-Hub-Signature-256`, under a secret the operator set for the account. A delivery id seen before answers 200 with the pin it created.",
      security: [],
      parameters: [{ ...query("account", "Account id"), required: true }],
      requestBody: { required: true, content: { "application/json": { schema: ref("Pin") } } },
      responses: {
        "200": json("Replayed delivery: the pin it created", ref("PinStatus")),
        "202": json("Pin created", ref("PinStatus")),
        "400": failure("Payload is not a valid Pin"),
        "401": failure("Signature missing, stale or invalid, or unknown account"),
        "409": failure("A quota of the account is reached"),
        "413": failure("Body larger than 64 KiB"),
      },
    },
  },

  "/metrics": {
    get: {
      tags: ["Operations"], summary: "Prometheus metrics of a region (text format 0.0.4)", security: [{ metricsToken: [] }, { operatorToken: [] }],
      parameters: [query("region", "A colo code, or local (default: the region serving the request)")],
      responses: {
        "200": { description: "Exposition text", content: { "text/plain; version=0.0.4": { schema: { type: "string" } } } },
        "400": text("Invalid region"),
        "401": text("Metrics token is missing or invalid"),
      },
    },
  },
  "/mcp": {
    post: {
      tags: ["Operations"], summary: "Model Context Protocol endpoint (Streamable HTTP, stateless)", security: EITHER,
      description: "JSON-RPC MCP messages. Tools: pin_content, pin_status, list_pins, unpin, fetch_content, car_verify, gateway_health, find_providers. A request with an `Origin` header must come from the worker's origin or MCP_ALLOWED_ORIGINS.",
      externalDocs: { url: "https://modelcontextprotocol.io/specification" },
      requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } },
      responses: {
        "200": { description: "JSON-RPC response (application/json or text/event-stream)" },
        "202": { description: "Notification accepted" },
        "401": text("Access token is missing or invalid"),
        "403": text("Origin not allowed"),
      },
    },
  },
  // ---- replication (src/replication/routes.ts, docs/replication.md) ----
  "/api/v1/pins": {
    get: {
      tags: ["Replication"], summary: "Unified status of every root of the account (R2 and every replica), newest pin first", security: ACCOUNT,
      parameters: [
        query("limit", "Roots per page", { type: "integer", minimum: 1, maximum: 1000, default: 10 }),
        query("offset", "Roots to skip", { type: "integer", minimum: 0, default: 0 }),
      ],
      responses: {
        "200": json("A page of roots", { type: "object", required: ["count", "results"], properties: { count: { type: "integer", description: "Distinct roots of the account" }, results: { type: "array", items: ref("RootStatus") } } }),
        "400": text("limit or offset out of range"),
        "401": text("Access token is missing or invalid"),
      },
    },
  },
  "/api/v1/pins/{cid}": {
    get: {
      tags: ["Replication"], summary: "Unified status of one root: R2 and every replica with details and log, pessimistic aggregate", security: ACCOUNT,
      parameters: [pathParam("cid", "The root CID (any version; answered as CIDv1)")],
      responses: { "200": json("The root's status", ref("RootStatus")), "400": text("Invalid CID"), "401": text("Access token is missing or invalid"), "404": text("No pin of this root in the account") },
    },
  },
  "/api/v1/replicas": {
    get: {
      tags: ["Replication"], summary: "The account's copies counted by backend and state", security: ACCOUNT,
      parameters: [query("checkedSince", "Also count the copies checked since this ISO 8601 date", { type: "string", format: "date-time" })],
      responses: {
        "200": json("Counts", ref("ReplicaCounts")),
        "400": text("checkedSince is not an ISO 8601 date"),
        "401": text("Access token is missing or invalid"),
      },
    },
  },
  "/api/v1/backends": {
    get: {
      tags: ["Replication"], summary: "Configured replication backends (BACKENDS, never secrets) and the policy (REPLICATION_POLICY)", security: OPERATOR,
      responses: {
        "200": json("Backends and policy", {
          type: "object", required: ["backends", "policy"],
          properties: {
            backends: { type: "array", items: { type: "object", required: ["name", "type", "settings"], properties: { name: { type: "string" }, type: { type: "string", enum: ["r2", "psa", "s3", "kubo", "hf", "filecoin"] }, settings: { type: "object" } } } },
            policy: { type: "object" },
          },
        }),
        "401": text("Operator token missing or invalid"),
        "409": text("BACKENDS or REPLICATION_POLICY is invalid (the message says what)"),
      },
    },
  },
  "/api/v1/backends/{name}/test": {
    post: {
      tags: ["Replication"], summary: "Test a backend: reachable, authorised, a small round trip (store, read back, remove)", security: OPERATOR,
      parameters: [pathParam("name", "A backend name from BACKENDS")],
      responses: {
        "200": json("The test's report (a failed check is reported here, not as an error)", ref("BackendTestReport")),
        "401": text("Operator token missing or invalid"),
        "404": text("No backend of this name is configured"),
        "409": text("The configuration is invalid, or the backend cannot be built (type missing from this build, unusable settings)"),
      },
    },
  },
  "/api/v1/backends/verify": {
    post: {
      tags: ["Replication"], summary: "Run the verification cron now (REPLICA_VERIFY_SAMPLE, REPLICA_VERIFY_MIN_AGE_MS apply)", security: OPERATOR,
      responses: {
        "200": json("How many stored copies were scheduled for a check", { type: "object", required: ["scheduled"], properties: { scheduled: { type: "integer", minimum: 0 } } }),
        "401": text("Operator token missing or invalid"),
      },
    },
  },
  "/api/v1/migrate": {
    post: {
      tags: ["Replication"], summary: "Copy or move the account's roots between backends (a resumable job), or preview the selection (dryRun); with from = \"storacha\", migrate the Storacha legacy space into pins (docs/storacha.md)", security: ACCOUNT,
      requestBody: { required: true, content: { "application/json": { schema: { oneOf: [ref("MigrateRequest"), ref("StorachaMigrateRequest")] } } } },
      responses: {
        "200": json("Dry run: the roots the spec selects (first 100) and how many in all; Storacha: the space's first 100 roots", {
          oneOf: [
            {
              type: "object", required: ["dryRun", "count", "roots"],
              properties: { dryRun: { type: "boolean", const: true }, count: { type: "integer" }, roots: { type: "array", maxItems: 100, items: { type: "string" } } },
            },
            {
              type: "object", required: ["dryRun", "source", "space", "roots", "more"],
              properties: { dryRun: { type: "boolean", const: true }, source: { const: "storacha" }, space: { type: "string" }, roots: { type: "array", maxItems: 100, items: { type: "string" } }, more: { type: "boolean" } },
            },
          ],
        }),
        "202": {
          ...json("The job, started; its progress at Location", { oneOf: [ref("MigrateProgress"), ref("StorachaMigrateProgress")] }),
          headers: { Location: { description: "/api/v1/migrate/{id}", schema: { type: "string" } } },
        },
        "400": text("Invalid body (not JSON, too large, unknown field, unknown backend, from = to, to = r2, a move out of r2, bad CID or filter, neither cids nor filter)"),
        "401": text("Access token is missing or invalid"),
        "403": text("Storacha: the account is not in STORACHA_ACCOUNTS, or the service refused the delegation (forged, expired, to another agent); nothing is created"),
        "409": text("BACKENDS or REPLICATION_POLICY is invalid; Storacha: STORACHA_KEY / STORACHA_PROOF missing or unparsable"),
        "502": text("Storacha dry run: the service could not be reached"),
      },
    },
  },
  "/api/v1/migrate/{id}": {
    get: {
      tags: ["Replication"], summary: "Progress of a migration job", security: ACCOUNT, parameters: [pathParam("id", "The job's id")],
      responses: { "200": json("Progress", { oneOf: [ref("MigrateProgress"), ref("StorachaMigrateProgress")] }), "401": text("Access token is missing or invalid"), "404": text("No such job in this account") },
    },
  },

  // ---- Storacha legacy space (src/legacy/storacha-routes.ts, docs/storacha.md) ----
  "/api/v1/storacha/uploads": {
    get: {
      tags: ["Storacha"], summary: "One page of the Storacha space's uploads (upload/list), each shard with its piece and filecoin/info", security: EITHER,
      description: "The operator token, or the token of an account named in STORACHA_ACCOUNTS.",
      parameters: [query("cursor", "The cursor of the previous page"), query("size", "Uploads per page (1–100, default 20)", { type: "integer", minimum: 1, maximum: 100 })],
      responses: {
        "200": json("The page", ref("StorachaUploads")),
        "400": text("Bad size or cursor"),
        "401": text("Token missing or invalid"),
        "403": text("The account is not in STORACHA_ACCOUNTS, or the service refused the delegation"),
        "409": text("STORACHA_KEY / STORACHA_PROOF missing or unparsable"),
        "502": text("The Storacha service or the content-claims service could not be reached"),
      },
    },
  },

  // ---- Filecoin watch, operator (src/backends/filecoin/watch-routes.ts, docs/filecoin.md "Operator API") ----
  "/api/v1/filecoin/deals": {
    post: {
      tags: ["Filecoin"], summary: "Put a classic deal holding a root under watch (renewed before it ends)", security: OPERATOR,
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object", required: ["root", "dealId"],
              properties: {
                root: { type: "string", maxLength: 200, description: "A CID" },
                dealId: { oneOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: "^[0-9]{1,15}$" }] },
                account: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" },
              },
            },
          },
        },
      },
      responses: {
        "201": json("Watched", { type: "object", required: ["id"], properties: { id: { type: "string", description: "The watched copy's id: one per deal and root, the same for the same deal and root" } } }),
        ...operatorErrors,
        "413": text("Body larger than 4 KiB"),
      },
    },
  },
  "/api/v1/filecoin/copies": {
    get: {
      tags: ["Filecoin"], summary: "Every watched copy of a root, with its actions", security: OPERATOR,
      parameters: [{ ...query("root", "The root CID"), required: true }],
      responses: {
        "200": json("Copies", { type: "object", required: ["copies"], properties: { copies: { type: "array", items: ref("WatchedCopy") } } }),
        ...operatorErrors,
      },
    },
  },
  "/api/v1/filecoin/copies/{id}": {
    delete: {
      tags: ["Filecoin"], summary: "Stop watching a copy", security: OPERATOR, parameters: [pathParam("id", "The watched copy's id", { type: "string", maxLength: 512 })],
      responses: { "204": noContent("No longer watched"), ...operatorErrors, "404": text("No such watched copy") },
    },
  },
  "/api/v1/filecoin/funding": {
    get: {
      tags: ["Filecoin"], summary: "Payment deposits and funding alerts of the watch, oldest first", security: OPERATOR,
      responses: { "200": json("Events", { type: "object", required: ["events"], properties: { events: { type: "array", items: ref("FundingEvent") } } }), "401": text("Operator token missing or invalid") },
    },
  },

  // ---- dashboard (src/dashboard/, docs/dashboard.md): HTML pages, not an API; listed so every route is described ----
  ...DASHBOARD_PATHS,

  "/api/v1/openapi.json": {
    get: { tags: ["Operations"], summary: "This document", security: [], responses: { "200": json("OpenAPI 3.1 document", { type: "object" }) } },
  },
  "/api/docs": {
    get: { tags: ["Operations"], summary: "This document as an HTML reference page", security: [], responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } },
  },
  "/api/docs/style.css": {
    get: { tags: ["Operations"], summary: "The reference page's stylesheet", security: [], responses: { "200": { description: "CSS", content: { "text/css": { schema: { type: "string" } } } } } },
  },
};

const SCHEMAS: Record<string, Json> = {
  ...PSA_SCHEMAS,
  MintedToken: {
    type: "object", required: ["id", "token", "account", "name", "created"],
    properties: { id: { type: "string" }, token: { type: "string", description: "The bearer token; shown only here" }, account: { type: "string" }, name: { type: "string" }, created: { type: "string", format: "date-time" } },
  },
  TokenRecord: { type: "object", required: ["id", "account", "name"], properties: { id: { type: "string" }, account: { type: "string" }, name: { type: "string" }, created: { type: "string" } } },
  Limits: {
    type: "object",
    properties: {
      maxPins: { type: "integer", minimum: 0 }, maxBytes: { type: "integer", minimum: 0 }, deadlineMs: { type: "integer", minimum: 0 },
      maxConcurrent: { type: "integer", minimum: 0 }, stepBlocks: { type: "integer", minimum: 0 },
    },
  },
  LimitsAndUsage: {
    type: "object", required: ["limits", "usage"],
    properties: { limits: ref("Limits"), usage: { type: "object", required: ["pins", "bytes"], properties: { pins: { type: "integer" }, bytes: { type: "integer" } } } },
  },
  DenylistEntry: { type: "object", properties: { id: { type: "integer" }, entry: { type: "string" }, status: { type: "integer", enum: [410, 451] } } },
  UploadResult: {
    type: "object", required: ["cid", "requestid", "dag_size", "pins"],
    properties: {
      cid: { type: "string" }, requestid: { type: "string" }, dag_size: { type: "integer" },
      pins: { type: "array", items: { type: "object", required: ["cid", "requestid"], properties: { cid: { type: "string" }, requestid: { type: "string" } } } },
    },
  },
  HealthView: {
    type: "object", required: ["region", "takenAt", "upstreams"],
    properties: {
      region: { type: "string" }, takenAt: { type: "string", format: "date-time" },
      upstreams: {
        type: "array",
        items: {
          type: "object",
          properties: {
            url: { type: "string" }, configured: { type: "boolean" }, rank: { type: ["integer", "null"] }, circuit: { type: "string", enum: ["closed", "open", "half_open"] },
            score: { type: "number" }, counts: { type: "object", additionalProperties: { type: "integer" } },
            successEwma: { type: ["number", "null"] }, ttfbEwmaMs: { type: ["number", "null"] }, throughputEwmaBytesPerSecond: { type: ["number", "null"] },
            lastProbe: { type: ["object", "null"] },
          },
        },
      },
    },
  },
  Providers: {
    type: "object", required: ["cid", "providers"],
    properties: {
      cid: { type: "string" },
      providers: { type: "array", items: { type: "object", properties: { id: { type: "string" }, url: { type: "string" }, addr: { type: "string" }, router: { type: "string" } } } },
      routers: { type: "array", items: { type: "object" } },
      source: { type: "string" }, foundAt: { type: "string", format: "date-time" }, expiresAt: { type: "string", format: "date-time" },
    },
  },
  AuditEntry: {
    type: "object", required: ["seq", "at", "actor", "action", "target", "detail"],
    properties: {
      seq: { type: "integer" }, at: { type: "integer", description: "Epoch milliseconds" },
      actor: { type: "string", enum: ["operator", "account", "webhook", "system"] }, action: { type: "string" },
      target: { type: ["string", "null"] }, detail: { type: "object", additionalProperties: { type: ["string", "number", "boolean", "null"] } },
    },
  },
  AuditPage: {
    type: "object", required: ["account", "entries", "next"],
    properties: { account: { type: "string" }, entries: { type: "array", items: ref("AuditEntry") }, next: { type: ["integer", "null"], description: "`before` of the next page" } },
  },
  // ---- replication and Filecoin watch (src/replication/replica-types.ts, src/durable-objects/filecoin-watch.ts) ----
  ReplicaState: { type: "string", enum: ["queued", "replicating", "stored", "failed", "lost", "at_risk", "removing", "removed"] },
  Replica: {
    type: "object", required: ["root", "backend", "state", "wanted", "remoteId", "details", "attempts", "lastError", "bytes", "created", "updated", "storedAt", "checkedAt", "removeAfter", "nextAttempt"],
    properties: {
      root: { type: "string" }, backend: { type: "string" }, state: ref("ReplicaState"), wanted: { type: "boolean", description: "false: being removed (superseded, moved away)" },
      remoteId: { type: ["string", "null"] }, details: { type: "object", description: "The backend's own details" }, attempts: { type: "integer" }, lastError: { type: ["string", "null"] },
      bytes: { type: ["integer", "null"], description: "Bytes stored on the backend" },
      created: { type: "string", format: "date-time" }, updated: { type: "string", format: "date-time" }, storedAt: { type: ["string", "null"], format: "date-time" },
      checkedAt: { type: ["string", "null"], format: "date-time" }, removeAfter: { type: ["string", "null"], format: "date-time" }, nextAttempt: { type: ["string", "null"], format: "date-time" },
      log: { type: "array", items: { type: "object", required: ["at", "action", "message"], properties: { at: { type: "string", format: "date-time" }, action: { type: "string" }, message: { type: ["string", "null"] } } } },
    },
  },
  RootStatus: {
    type: "object", required: ["cid", "aggregate", "pins", "dagSize", "carSize", "plan", "replicas"],
    properties: {
      cid: { type: "string" },
      aggregate: { type: "string", enum: ["failed", "lost", "at_risk", "queued", "replicating", "stored", "under_replicated"], description: "The least healthy copy decides" },
      pins: { type: "array", items: { type: "object", required: ["requestid", "status", "name", "created"], properties: { requestid: { type: "string" }, status: { type: "string" }, name: { type: ["string", "null"] }, created: { type: "string", format: "date-time" } } } },
      dagSize: { type: ["integer", "null"] }, carSize: { type: ["integer", "null"] },
      plan: {
        type: ["object", "null"], required: ["backends", "minCopies", "rule", "problems"],
        properties: { backends: { type: "array", items: { type: "string" } }, minCopies: { type: "integer" }, rule: { type: "string" }, problems: { type: "array", items: { type: "string" } } },
      },
      replicas: { type: "array", items: ref("Replica") },
    },
  },
  ReplicaCounts: {
    type: "object", required: ["byBackend", "total"],
    properties: {
      byBackend: { type: "object", description: "backend → state → copies", additionalProperties: { type: "object", additionalProperties: { type: "integer" } } },
      total: { type: "integer" },
      checkedSince: { type: "integer", description: "Copies checked since the given date (only with checkedSince)" },
    },
  },
  BackendTestReport: {
    type: "object", required: ["name", "type", "reachable", "authorised", "roundTrip", "latencyMs"],
    properties: { name: { type: "string" }, type: { type: "string" }, reachable: { type: "boolean" }, authorised: { type: "boolean" }, roundTrip: { type: "boolean" }, latencyMs: { type: "number" }, message: { type: "string" } },
  },
  MigrateRequest: {
    type: "object", required: ["from", "to"], additionalProperties: false,
    description: "Give cids or a filter (an empty filter {} selects every pin).",
    properties: {
      from: { type: "string", description: "A configured backend" }, to: { type: "string", description: "A configured backend other than from and r2" },
      mode: { type: "string", enum: ["copy", "move"], default: "copy" },
      cids: { type: "array", minItems: 1, maxItems: 1000, items: { type: "string" } },
      filter: { type: "object", additionalProperties: false, properties: { sizeAbove: { type: ["integer", "string"], description: "Bytes, or a size such as \"100 MB\"" }, sizeBelow: { type: ["integer", "string"] } } },
      dryRun: { type: "boolean", default: false },
    },
  },
  MigrateProgress: {
    type: "object", required: ["id", "spec", "state", "selected", "copied", "removed", "failed", "created", "updated"],
    properties: {
      id: { type: "string" }, spec: { type: "object" }, state: { type: "string", enum: ["selecting", "running", "done"] },
      selected: { type: "integer" }, copied: { type: "integer" }, removed: { type: "integer" }, failed: { type: "integer" },
      created: { type: "string", format: "date-time" }, updated: { type: "string", format: "date-time" },
    },
  },
  StorachaMigrateRequest: {
    type: "object", required: ["from"], additionalProperties: false,
    properties: { from: { const: "storacha" }, dryRun: { type: "boolean", default: false } },
  },
  StorachaMigrateProgress: {
    type: "object", required: ["id", "source", "space", "state", "listed", "created", "reused", "pins", "dealsWatched", "errors", "failed", "attempts", "lastError", "nextAttempt"],
    properties: {
      id: { type: "string", pattern: "^storacha-" }, source: { const: "storacha" }, space: { type: "string", description: "The space's DID" },
      state: { type: "string", enum: ["listing", "running", "done", "failed"], description: "listing: pages still to read; running: every root has a pin, some still fetching; failed: the delegation was refused (start again once fixed)" },
      listed: { type: "integer" }, created: { type: "integer", description: "Pins created by this job" }, reused: { type: "integer", description: "Roots the account had pinned already" },
      pins: { type: "object", properties: { queued: { type: "integer" }, pinning: { type: "integer" }, pinned: { type: "integer" }, failed: { type: "integer" } } },
      dealsWatched: { type: "integer" }, failed: { type: "integer", description: "Roots with an error" },
      errors: { type: "array", maxItems: 100, items: { type: "object", properties: { root: { type: "string" }, error: { type: "string" } } } },
      attempts: { type: "integer" }, lastError: { type: ["string", "null"] }, nextAttempt: { type: ["string", "null"], format: "date-time" },
      created_at: { type: "string", format: "date-time" }, updated: { type: "string", format: "date-time" },
    },
  },
  StorachaUploads: {
    type: "object", required: ["space", "uploads", "cursor"],
    properties: {
      space: { type: "string" }, cursor: { type: ["string", "null"], description: "Pass it for the next page; null on the last" },
      uploads: {
        type: "array",
        items: {
          type: "object", required: ["root", "shards"],
          properties: {
            root: { type: "string" }, insertedAt: { type: "string" }, updatedAt: { type: "string" },
            shards: {
              type: "array",
              items: {
                type: "object", required: ["cid", "piece", "filecoin"],
                properties: {
                  cid: { type: "string", description: "The CAR shard" }, piece: { type: ["string", "null"], description: "Its piece CID (assert/equals claim), null when unknown" },
                  filecoin: {
                    type: ["object", "null"],
                    properties: {
                      aggregates: { type: "array", items: { type: "object", properties: { aggregate: { type: "string" } } } },
                      deals: { type: "array", items: { type: "object", properties: { aggregate: { type: "string" }, provider: { type: "string" }, dealId: { type: "string" } } } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  WatchedCopy: {
    type: "object", required: ["id", "kind", "root", "backend", "remoteId", "state", "actions"],
    properties: {
      id: { type: "string" }, kind: { type: "string", enum: ["pdp", "deal"] }, account: { type: ["string", "null"] }, root: { type: "string" }, backend: { type: "string" }, remoteId: { type: "string" },
      pieceCid: { type: "string" }, dataSetId: { type: "string" }, pieceId: { type: "string" }, providerId: { type: "string" }, retrievalUrl: { type: "string" }, dealId: { type: "string" }, addedEpoch: { type: "string" },
      state: { type: "string", enum: ["stored", "at_risk", "lost"] }, proof: { type: ["string", "null"] },
      lastCheckAt: { type: ["integer", "null"], description: "Epoch milliseconds" }, nextCheckAt: { type: "integer" }, failures: { type: "integer" }, lastError: { type: ["string", "null"] }, lastVerifiedAt: { type: ["integer", "null"] },
      actions: { type: "array", items: { type: "object", properties: { copyId: { type: ["string", "null"] }, at: { type: "integer" }, kind: { type: "string" }, reason: { type: "string" }, result: { type: "string" } } } },
    },
  },
  FundingEvent: {
    type: "object", required: ["payer", "at", "kind", "amount", "fundsBefore", "runwayEpochs", "state", "txHash", "message"],
    properties: {
      payer: { type: "string" }, at: { type: "integer", description: "Epoch milliseconds" }, kind: { type: "string", enum: ["deposit", "alert"] },
      amount: { type: "string" }, fundsBefore: { type: "string" }, runwayEpochs: { type: "string" }, state: { type: "string" }, txHash: { type: ["string", "null"] }, message: { type: ["string", "null"] },
    },
  },
};

/** The document, with `serverUrl` (the origin it is served from) as its server. */
export function openApiDocument(serverUrl: string): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "ipfs-kit-edge",
      version: "0.1.0",
      description: "A verified IPFS gateway, edge cache and pinning service on Cloudflare Workers. Errors of the native API are `text/plain` messages; `/psa` and `/webhooks` use the Pinning Service API's Failure body.",
    },
    servers: [{ url: serverUrl }],
    tags: [
      { name: "Gateway" }, { name: "Pinning" }, { name: "Pinning Service API", externalDocs: { url: PSA_SPEC_URL } }, { name: "Operator" }, { name: "Operations" },
      { name: "Replication" }, { name: "Filecoin" }, { name: "Storacha" }, { name: "Dashboard" },
    ],
    paths: PATHS,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        apiToken: { type: "http", scheme: "bearer", description: "An API token minted by the operator (one account per token family)" },
        operatorToken: { type: "http", scheme: "bearer", description: "The operator's ADMIN_TOKEN secret" },
        metricsToken: { type: "http", scheme: "bearer", description: "The METRICS_TOKEN secret (scrape only)" },
        dashboardSession: { type: "apiKey", in: "cookie", name: "__Host-ike-dashboard", description: "The dashboard's session (POST /dashboard/sign-in); every form also carries the session's CSRF token" },
      },
    },
    security: [],
  };
}
