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
 * The listen backlog of the LISTEN socket(s) on `port`, or on a Unix socket's path, as the kernel reports
 * it through sock_diag: `ss -ltn` (`ss -xl`) prints it as Send-Q, and the current accept-queue length as
 * Recv-Q. /proc/net/tcp and /proc/net/unix do not carry it. Undefined when ss is missing or nothing
 * listens there.
 */
export function readListenBacklog(at: { port: number } | { path: string }): { backlog: number; queued: number } | undefined {
  // TCP: State Recv-Q Send-Q Local:Port Peer:Port (one row per listening socket: IPv4 and IPv6 may both be
  // there). Unix: Netid State Recv-Q Send-Q Path Inode Peer PeerInode.
  const rows = 'path' in at
    ? ssRows('xl', `src ${at.path}`)?.filter((f) => f.length >= 5 && f[1] === 'LISTEN' && f[4] === at.path).map((f) => f.slice(1))
    : ssRows('ltn', `sport = :${at.port}`)?.filter((f) => f.length >= 4 && f[0] === 'LISTEN');
  if (rows === undefined || rows.length === 0) return undefined;
  return { backlog: Math.min(...rows.map((f) => Number(f[2]))), queued: Math.max(...rows.map((f) => Number(f[1]))) };
}

/** The queues of one Unix stream socket, as sock_diag reports them. */
export interface UnixQueues {
  /** bytes in its receive queue, not yet read by its owner */
  recvQ: number;
  /** the inode of the socket at the other end (0: none) */
  peer: number;
}

/**
 * Every connected Unix stream socket of the machine by inode (`ss -xH`: Netid State Recv-Q Send-Q Local
 * Inode Peer PeerInode): its receive queue and its peer, which /proc/net/unix does not show. Undefined
 * where ss is missing or fails.
 */
export function readUnixQueues(): Map<number, UnixQueues> | undefined {
  const rows = ssRows('x', '');
  if (rows === undefined) return undefined;
  const queues = new Map<number, UnixQueues>();
  // A path with spaces makes more fields: such rows are left out (the kit's own client has no path).
  for (const f of rows) {
    if (f[0] !== 'u_str' || f.length !== 8) continue;
    const [inode, peer] = [Number(f[5]), Number(f[7])];
    if (Number.isInteger(inode) && Number.isInteger(peer)) queues.set(inode, { recvQ: Number(f[2]), peer });
  }
  return queues;
}
