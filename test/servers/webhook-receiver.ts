/**
 * A local HTTP endpoint that plays an operator's alert webhook (Slack-style
 * incoming webhook, PagerDuty, a CI hook...) in tests: Node `http` on 127.0.0.1.
 *
 * - `POST {base}/{answer}/{tag}`: records the request (headers, body) under
 *   `tag` and answers with the status `answer` names (`ok` → 204, `fail` → 500).
 * - `GET {base}/__received?tag=TAG`: JSON list of what `tag` received.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { listenLocal } from "./listen-local";

export interface ReceivedWebhook {
  method: string;
  contentType: string | null;
  body: string;
}

export interface WebhookReceiver {
  base: string;
  close(): Promise<void>;
}

async function readText(req: IncomingMessage): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.length > 1024 * 1024) throw new Error("body too large");
  }
  return text + decoder.decode();
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received = new Map<string, ReceivedWebhook[]>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/__received") {
      const body = JSON.stringify(received.get(url.searchParams.get("tag") ?? "") ?? []);
      res.writeHead(200, { "Content-Type": "application/json" }).end(body);
      return;
    }
    const [, answer, tag] = url.pathname.split("/");
    if (req.method !== "POST" || (answer !== "ok" && answer !== "fail") || !tag) {
      res.writeHead(404).end();
      return;
    }
    readText(req).then(
      (body) => {
        received.set(tag, [...(received.get(tag) ?? []), { method: req.method!, contentType: typeof req.headers["content-type"] === "string" ? req.headers["content-type"] : null, body }]);
        res.writeHead(answer === "ok" ? 204 : 500).end();
      },
      () => res.writeHead(413).end(),
    );
  });
  const { base, close } = await listenLocal(server, "webhook-receiver");
  return {
    base,
    close,
  };
}
