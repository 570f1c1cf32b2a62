/**
 * Where a server listens and clients connect: a TCP host and port, or the path of a Unix-domain stream
 * socket. Over a Unix socket, the end of file (a read returning 0) is what a FIN is over TCP, and
 * ECONNRESET what an RST is (rule R0.1 of docs/protocol.md).
 */
export type Endpoint = { host: string; port: number; path?: undefined } | { path: string; host?: undefined; port?: undefined };

/** `127.0.0.1:3000`, or the socket's path. */
export function describeEndpoint(e: Endpoint): string {
  return e.path !== undefined ? e.path : `${e.host}:${e.port}`;
}

/** Where a listener is looked for: on a port (any port when undefined), or on a socket path. */
export type ListenAt = { port?: number; path?: undefined } | { path: string; port?: undefined };

export function listenAtOf(e: Endpoint): ListenAt {
  return e.path !== undefined ? { path: e.path } : { port: e.port };
}
