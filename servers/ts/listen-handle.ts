// A bound, not yet listening TCP handle that a parent creates once and hands to its worker
// processes, the way Node's cluster module does for its SCHED_NONE (shared socket) policy.
import * as net from 'net';
import { lookup } from 'dns/promises';
import { getSystemErrorName } from 'util';

/** The parts of libuv's TCP handle wrapper (an internal class) that we use. */
export interface RawTcpHandle {
  getsockname(out: { address?: string; port?: number; family?: string }): number;
  close(callback?: () => void): void;
}

/**
 * `net._createServerHandle` is internal but exported (cluster uses it); @types/node does not
 * declare it, hence this small interface. It returns a handle, or a negative errno on failure.
 */
interface NetInternals {
  _createServerHandle(address: string, port: number, addressType: 4 | 6): RawTcpHandle | number;
}

export class BindError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** Binds host:port (resolving a host name first) without listening; the parent never polls it. */
export async function bindListenHandle(host: string, port: number): Promise<{ handle: RawTcpHandle; address: string; port: number }> {
  const resolved = net.isIP(host) ? { address: host, family: net.isIP(host) } : await lookup(host);
  const family = resolved.family === 6 ? 6 : 4;
  const created = (net as unknown as NetInternals)._createServerHandle(resolved.address, port, family);
  if (typeof created === 'number') {
    throw new BindError(getSystemErrorName(created)); // e.g. -98 -> EADDRINUSE
  }
  const name: { address?: string; port?: number } = {};
  created.getsockname(name);
  if (!name.port) {
    // libuv defers EADDRINUSE from bind() to listen(); a worker's listen() on the still unbound
    // socket would silently pick a random port, so catch it here.
    created.close();
    throw new BindError('EADDRINUSE');
  }
  return { handle: created, address: name.address ?? resolved.address, port: name.port ?? port };
}
