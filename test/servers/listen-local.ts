import type { Server } from "node:http";

/**
 * Starts `server` on 127.0.0.1 (port 0: a free port the kernel picks, so
 * parallel runs never collide) and returns its base URL and a `close` that
 * also drops kept-alive connections, so a test run's teardown never waits on
 * an idle socket. `name` only labels the error.
 */
export async function listenLocal(server: Server, name: string, port = 0, host = "127.0.0.1"): Promise<{ base: string; close: () => Promise<void> }> {
  await new Promise<void>((listening) => server.listen(port, host, listening));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error(`${name}: no TCP address`);
  return {
    base: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((closed, failed) => {
        server.close((error) => (error ? failed(error) : closed()));
        server.closeAllConnections();
      }),
  };
}
