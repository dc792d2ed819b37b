/**
 * A proxy on loopback that forwards nothing and records what tried to pass through it. A test
 * points a package client's proxy settings at it (with loopback exempted) to prove that an install
 * used only the registries the test started: anything bound elsewhere ends here, refused, and is
 * listed, instead of quietly reaching the internet.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EgressTripwire {
  /** `http://127.0.0.1:PORT`, for npm's `proxy`/`https-proxy`, pip's `--proxy`, or `*_proxy`. */
  url: string;
  /** What was attempted: `CONNECT host:443` or `GET http://host/path`. */
  attempts(): string[];
  close(): Promise<void>;
}

/** Loopback addresses, for the clients' `noproxy`/`no_proxy` setting. */
export const LOOPBACK_NO_PROXY = '127.0.0.1,localhost,::1';

export async function startEgressTripwire(): Promise<EgressTripwire> {
  const attempts: string[] = [];
  const server = createServer((req, res) => {
    attempts.push(`${req.method} ${req.url}`);
    res.writeHead(403, { 'content-type': 'text/plain' }).end('egress refused by the test\n');
  });
  server.on('connect', (req, socket) => {
    attempts.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    attempts: () => [...attempts],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
