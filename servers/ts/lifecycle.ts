// Process lifecycle shared by all models: the ready line, fatal start-up errors, shutdown signals,
// and draining a set of sessions within a grace period.
import type { AddressInfo, Server } from 'net';
import type { SocketSession } from './session';

/** `127.0.0.1:41234` or `[::1]:41234`. */
export function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The one line a server ever writes on stdout, once it accepts connections. */
export function announceReady(address: AddressInfo | { address: string; port: number }): void {
  // A launcher that closes our stdout early must not crash us with EPIPE.
  process.stdout.on('error', () => undefined);
  process.stdout.write(`listening on ${formatAddress(address.address, address.port)}\n`);
}

/**
 * Start-up failures (cannot bind, cannot resolve the host): one line on stderr, no stack trace.
 * Returns the exit code: 2 when the value given was bad (host), 1 otherwise (e.g. port in use).
 */
export function reportStartupError(program: string, what: string, err: unknown): number {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
  process.stderr.write(`${program}: ${what}: ${code ?? String(err)}\n`);
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

/** server.listen as a promise that rejects if the server cannot listen. */
export function listen(server: Server, host: string, port: number, program: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: 511 }, () => {
      server.off('error', reject);
      // Errors after start-up (e.g. EMFILE on accept) must not kill the server.
      server.on('error', (err) => process.stderr.write(`${program}: ${String(err)}\n`));
      resolve(server.address() as AddressInfo);
    });
  });
}

/** listen(); a failure to listen ends the process as a start-up error. */
export async function listenOrExit(server: Server, host: string, port: number, program: string): Promise<AddressInfo> {
  try {
    return await listen(server, host, port, program);
  } catch (err) {
    exitOnStartupError(program, `cannot listen on ${formatAddress(host, port)}`, err);
  }
}
