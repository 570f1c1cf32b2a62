import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when `command` is an executable on PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

/**
 * Rows of `ss -<flags>H <filter>`: sockets as sock_diag reports them, filtered in the kernel. Undefined
 * where ss is missing or fails.
 */
export function ssRows(flags: string, filter: string): string[][] | undefined {
  let out: string;
  try {
    out = execFileSync('ss', [`-${flags}H`, filter], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  return out.trim().split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[0] !== '');
}

/**
 * The listen backlog of the LISTEN socket(s) on `port`, as the kernel reports it through sock_diag: `ss
 * -ltn` prints it as Send-Q (and the current accept-queue length as Recv-Q). /proc/net/tcp does not
 * carry it. Undefined when ss is missing or nothing listens there.
 */
export function readListenBacklog(port: number): { backlog: number; queued: number } | undefined {
  // State Recv-Q Send-Q Local:Port Peer:Port (one row per listening socket: IPv4 and IPv6 may both be there)
  const rows = ssRows('ltn', `sport = :${port}`)?.filter((f) => f.length >= 4 && f[0] === 'LISTEN');
  if (rows === undefined || rows.length === 0) return undefined;
  return { backlog: Math.min(...rows.map((f) => Number(f[2]))), queued: Math.max(...rows.map((f) => Number(f[1]))) };
}
