/** Listening and closing the local stack's HTTP servers: loopback only, a port in use as an error (not a crash). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1:`port` (0: a free one), or on a unix socket path; resolves with the port (0 for a socket). */
export function listen(server: Server, port: number | string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? (address as AddressInfo).port : 0);
    };
    if (typeof port === 'string') server.listen(port, done);
    else server.listen(port, '127.0.0.1', done);
  });
}

/** Closes a server; idle keep-alive sockets of SDK clients would otherwise hold close() open, busy ones get 2 s. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), 2_000);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
