// Process lifecycle shared by all models: the ready line, fatal start-up errors, shutdown signals,
// and draining a set of sessions within a grace period.
import { lstatSync, unlinkSync } from 'fs';
import type { AddressInfo, Server } from 'net';
import type { ServerOptions } from './options';
import type { SocketSession } from './session';

/** Where a server listens: a TCP host and port, or the path of a Unix-domain stream socket (--unix). */
export type ListenAddress = { host: string; port: number } | { path: string };

export function listenAddressOf(options: ServerOptions): ListenAddress {
  return options.unix !== undefined ? { path: options.unix } : { host: options.host, port: options.port };
}

/** `127.0.0.1:41234`, `[::1]:41234`, or `unix:/run/x.sock`. */
export function formatListenAddress(at: ListenAddress): string {
  return 'path' in at ? `unix:${at.path}` : formatAddress(at.host, at.port);
}

/**
 * A socket file left by a server that was killed would make bind() fail (EADDRINUSE): it is removed.
 * Anything else at that path is not ours to delete: the start fails instead.
 */
export function replaceStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new Error('it exists and is not a socket (not replaced)');
  unlinkSync(path);
}

/** `127.0.0.1:41234` or `[::1]:41234`. */
export function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The one line a server ever writes on stdout, once it accepts connections; a string is a socket path.
 * Call it after onShutdownSignal: a supervisor may send SIGTERM the moment it reads the line, and
 * without a handler the default action kills the server (leaving its socket file behind).
 */
export function announceReady(address: AddressInfo | { address: string; port: number } | string): void {
  // A launcher that closes our stdout early must not crash us with EPIPE.
  process.stdout.on('error', () => undefined);
  const where = typeof address === 'string' ? `unix:${address}` : formatAddress(address.address, address.port);
  process.stdout.write(`listening on ${where}\n`);
}

/**
 * Start-up failures (cannot bind, cannot resolve the host): one line on stderr, no stack trace.
 * Returns the exit code: 2 when the value given was bad (host), 1 otherwise (e.g. port in use).
 */
export function reportStartupError(program: string, what: string, err: unknown): number {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
  process.stderr.write(`${program}: ${what}: ${code ?? (err instanceof Error ? err.message : String(err))}\n`);
  return ['ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'EINVAL', 'EAI_NONAME'].includes(code ?? '') ? 2 : 1;
}

export function exitOnStartupError(program: string, what: string, err: unknown): never {
  process.exit(reportStartupError(program, what, err));
}

/** Calls `handler` once, on the first SIGTERM or SIGINT; later signals are ignored (drain is bounded). */
export function onShutdownSignal(handler: () => void): void {
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    handler();
  };
  process.on('SIGTERM', once);
  process.on('SIGINT', once);
}

/** Resolves when `work` settles or after `ms`, whichever is first; true if `work` made it. */
export async function withinGrace(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The sessions a process is serving, so that a drain can finish them and then close the rest. */
export class SessionSet {
  private readonly sessions = new Set<SocketSession>();

  add(session: SocketSession): SocketSession {
    this.sessions.add(session);
    void session.closed.then(() => this.sessions.delete(session));
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Drain: each session answers what it already received, then sends FIN; whatever has not
   * finished after `graceMs` is destroyed.
   */
  async drain(graceMs: number): Promise<void> {
    const all = [...this.sessions];
    for (const session of all) session.finish();
    await withinGrace(Promise.all(all.map((s) => s.freed)), graceMs);
    for (const session of this.sessions) session.destroy();
  }
}

/**
 * server.listen as a promise that rejects if the server cannot listen. Resolves with the address, or the
 * socket's path; closing the server removes the socket file (libuv unlinks the path it bound).
 */
export function listen(server: Server, at: ListenAddress, program: string): Promise<AddressInfo | string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if ('path' in at) {
      try {
        replaceStaleSocket(at.path);
      } catch (err) {
        reject(err);
        return;
      }
    }
    server.listen({ ...at, backlog: 511 }, () => {
      server.off('error', reject);
      // Errors after start-up (e.g. EMFILE on accept) must not kill the server.
      server.on('error', (err) => process.stderr.write(`${program}: ${String(err)}\n`));
      resolve(server.address() as AddressInfo | string);
    });
  });
}

/** listen(); a failure to listen ends the process as a start-up error. */
export async function listenOrExit(server: Server, at: ListenAddress, program: string): Promise<AddressInfo | string> {
  try {
    return await listen(server, at, program);
  } catch (err) {
    exitOnStartupError(program, `cannot listen on ${formatListenAddress(at)}`, err);
  }
}
