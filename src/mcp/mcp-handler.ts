/**
 * The MCP server behind `/mcp` (Streamable HTTP, stateless): one McpServer
 * per request from `createMcpHandler` (@modelcontextprotocol/server 2.4),
 * both the 2026 per-request protocol and the 2025 stateless fallback, no
 * session and no Durable Object. This module is only loaded by
 * `import()` from src/mcp/routes.ts, on the first `/mcp` request of an
 * isolate, so the SDK costs the gateway nothing at start-up.
 */
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { registerTools, type ToolContext } from "./tools";

export const SERVER_INFO = { name: "ipfs-kit-edge", version: "0.1.0" } as const;

/** Serves one MCP HTTP request; `tools` carries the caller's credentials. */
export function serveMcp(request: Request, tools: ToolContext, onerror: (err: Error) => void): Promise<Response> {
  const handler = createMcpHandler(
    () => {
      const server = new McpServer(SERVER_INFO, {
        instructions:
          "A verified IPFS gateway and pinning service. Pin with pin_content, follow with pin_status / list_pins, " +
          "read content with fetch_content (hash-verified), check CARs with car_verify.",
      });
      registerTools(server, tools);
      return server;
    },
    // "auto": one JSON body per request (the tools emit nothing before their result).
    { onerror },
  );
  return handler.fetch(request);
}
