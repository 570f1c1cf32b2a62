// A bound, not yet listening handle (TCP or Unix-domain) that a parent creates once and hands to its
// worker processes, the way Node's cluster module does for its SCHED_NONE (shared socket) policy.
import * as net from 'net';
import { lookup } from 'dns/promises';
import { getSystemErrorName } from 'util';
import { replaceStaleSocket, type ListenAddress } from './lifecycle';

/** The parts of libuv's TCP and pipe handle wrappers (internal classes) that we use. */
export interface RawListenHandle {
  getsockname?(out: { address?: string; port?: number; family?: string }): number;
  close(callback?: () => void): void;
}

/**
 * `net._createServerHandle` is internal but exported (cluster uses it); @types/node does not
 * declare it, hence this small interface. It returns a handle, or a negative errno on failure.
 * Port and address type -1 make a Unix-domain (pipe) handle bound to the path.
 */
interface NetInternals {
  _createServerHandle(address: string, port: number, addressType: 4 | 6 | -1): RawListenHandle | number;
}

export class BindError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** What bindListenHandle made: the handle, and what the ready line says (an address, or the path). */
export interface BoundHandle {
  handle: RawListenHandle;
  address: { address: string; port: number } | string;
}

function createHandle(address: string, port: number, family: 4 | 6 | -1): RawListenHandle {
  const created = (net as unknown as NetInternals)._createServerHandle(address, port, family);
  if (typeof created === 'number') throw new BindError(getSystemErrorName(created)); // e.g. -98 -> EADDRINUSE
  return created;
}

/**
 * Binds host:port (resolving a host name first), or a socket path, without listening; the parent never
 * polls it. Closing the handle of a path removes the socket file (libuv unlinks what it bound).
 */
export async function bindListenHandle(at: ListenAddress): Promise<BoundHandle> {
  if ('path' in at) {
    replaceStaleSocket(at.path);
    return { handle: createHandle(at.path, -1, -1), address: at.path };
  }
  const resolved = net.isIP(at.host) ? { address: at.host, family: net.isIP(at.host) } : await lookup(at.host);
  const created = createHandle(resolved.address, at.port, resolved.family === 6 ? 6 : 4);
  const name: { address?: string; port?: number } = {};
  created.getsockname?.(name);
  if (!name.port) {
    // libuv defers EADDRINUSE from bind() to listen(); a worker's listen() on the still unbound
    // socket would silently pick a random port, so catch it here.
    created.close();
    throw new BindError('EADDRINUSE');
  }
  return { handle: created, address: { address: name.address ?? resolved.address, port: name.port } };
}

/**
 * What Node's net.Server does with a handle it is given (internal, as cluster uses it): `listen()` takes
 * a TCP handle as it is, but re-opens any other handle from its descriptor, which would leave two
 * handles owning one descriptor. A pipe handle is adopted here the way cluster's workers adopt theirs.
 */
interface ServerInternals {
  _handle: object | null;
  _listen2(address: string | null, port: number, addressType: number, backlog: number): void;
}

/** Starts `server` listening on a handle received from the parent (TCP or pipe); `onListening` once it does. */
export function listenOnHandle(server: net.Server, handle: object, onListening: () => void): void {
  // Node does not export its handle classes; the constructor's name tells a TCP handle from a pipe's.
  if (handle.constructor.name === 'TCP') {
    server.listen(handle, onListening);
    return;
  }
  server.once('listening', onListening);
  const internals = server as unknown as ServerInternals;
  internals._handle = handle;
  internals._listen2(null, -1, -1, 511);
}
