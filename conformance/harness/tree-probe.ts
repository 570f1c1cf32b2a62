import { LaunchedTarget } from './launcher';
import { ProtocolClient } from './client';
import { fdKind, openFds, ProcessInfo, processTree, readTcpTable, readUnixTable, socketFamilies, socketInodes, TcpRow, threadStacks } from './procfs';

/** A socket descriptor held by a process of the server tree. */
export interface HeldSocket {
  pid: number;
  comm: string;
  row: TcpRow;
}

/**
 * A session socket of a server on a Unix socket, held by a process of the tree: a connection it accepted
 * (bound to the server's path, like its listener, but not listening). One entry per holding process.
 */
export interface HeldUnixSocket {
  pid: number;
  comm: string;
  inode: number;
}

/** A descriptor held by a process of the server tree, of any kind. */
export interface HeldFd {
  pid: number;
  fd: number;
  /** socket:tcp, socket:unix, pipe, eventfd, epoll, timerfd, signalfd, inotify, device, file, … */
  kind: string;
  /** what it is, for evidence: a file's path, a TCP socket's state, the kind otherwise */
  label: string;
}

/** One look at a server's whole process tree through /proc. */
export interface TreeSample {
  at: number;
  processes: ProcessInfo[];
  /** TCP sockets (v4 and v6) held by any process of the tree, one entry per holding process */
  tcpSockets: HeldSocket[];
  /** a server on a Unix socket: the session sockets held by the tree (empty over TCP) */
  unixSessions: HeldUnixSocket[];
  /** every descriptor of every process of the tree */
  fds: HeldFd[];
  threads: number;
  rssBytes: number;
  vsizeBytes: number;
  /** thread-stack mappings beyond the live threads' own: stacks of threads nobody joined (plus a few cached) */
  strayStacks: number;
  /**
   * Whether every process's stray stacks fit in glibc's cache of freed stacks (at most
   * GLIBC_STACK_CACHE_BYTES, plus the one being freed): then they may be that cache, not a leak.
   */
  strayStacksFitCache: boolean;
  cpuTicks: number;
  /** zombies whose parent is in the tree */
  zombies: ProcessInfo[];
}

const PAGE_SIZE = 4096;

/**
 * One process's thread-stack mappings beyond its live threads' own (the main thread's stack is not such
 * a mapping). Never below 0: a process that exits between the tree's snapshot and the read of its maps
 * shows no mapping yet still counts its threads, and must not offset the strays of the others (a
 * fork-per-connection child ending mid-sample made a baseline -12, and 0 strays later read as 12 new).
 */
export function strayStacksOf(stackMappings: number, threads: number): number {
  return Math.max(0, stackMappings - (threads - 1));
}

/**
 * glibc keeps freed thread stacks mapped for reuse, up to 40 MiB a process (its stack_cache_maxsize):
 * five of 8 MiB, twenty of Rust's 2 MiB. Stray stacks within that may be the cache; beyond it they leak.
 */
export const GLIBC_STACK_CACHE_BYTES = 40 * 1024 * 1024;

/** A process's stray stacks, at the average size of its stacks, fit in glibc's cache (one stack of slack). */
export function strayStacksFitCache(stacks: { count: number; bytes: number }, threads: number): boolean {
  const strays = strayStacksOf(stacks.count, threads);
  if (strays === 0) return true;
  const size = stacks.bytes / stacks.count;
  return (strays - 1) * size <= GLIBC_STACK_CACHE_BYTES;
}

/**
 * Samples every live process of the server's tree (the server process and its descendants; launchers
 * above it are not the server's) and the zombies they have not reaped.
 */
export function sampleTree(server: LaunchedTarget): TreeSample {
  const tree = processTree(server.serverPid);
  const processes = tree.filter((p) => p.state !== 'Z');
  const members = new Set(processes.map((p) => p.pid));
  const rows = new Map<number, TcpRow>();
  for (const row of readTcpTable(processes[0]?.pid ?? 'self')) if (row.inode !== 0) rows.set(row.inode, row);
  const tcpSockets: HeldSocket[] = [];
  for (const p of processes) {
    for (const inode of socketInodes(p.pid)) {
      const row = rows.get(inode);
      if (row) tcpSockets.push({ pid: p.pid, comm: p.comm, row });
    }
  }
  const unixRows = readUnixTable(processes[0]?.pid ?? 'self');
  // A Unix server's own sockets carry its path: the listener, and every connection it accepted.
  const path = server.endpoint.path;
  const unixStates = new Map(unixRows.filter((r) => path !== undefined && r.path === path && r.inode !== 0).map((r) => [r.inode, r.listening ? 'LISTEN' : 'session']));
  const families = socketFamilies(processes[0]?.pid ?? 'self', unixRows);
  const fds: HeldFd[] = [];
  const unixSessions: HeldUnixSocket[] = [];
  for (const p of processes) {
    for (const { fd, link } of openFds(p.pid)) {
      const kind = fdKind(link, families);
      const inode = /^socket:\[(\d+)\]$/.exec(link);
      const row = inode ? rows.get(Number(inode[1])) : undefined;
      const unixState = inode ? unixStates.get(Number(inode[1])) : undefined;
      if (unixState === 'session') unixSessions.push({ pid: p.pid, comm: p.comm, inode: Number(inode?.[1]) });
      const label = kind === 'file' || kind === 'device' ? link : row ? `${kind} ${row.state}` : unixState ? `${kind} ${unixState}` : kind;
      fds.push({ pid: p.pid, fd, kind, label });
    }
  }
  const stacks = processes.map((p) => ({ p, s: threadStacks(p.pid) }));
  return {
    at: Date.now(),
    processes,
    tcpSockets,
    unixSessions,
    fds,
    threads: processes.reduce((n, p) => n + p.threads, 0),
    rssBytes: processes.reduce((n, p) => n + p.rssPages * PAGE_SIZE, 0),
    vsizeBytes: processes.reduce((n, p) => n + p.vsizeBytes, 0),
    strayStacks: stacks.reduce((n, { p, s }) => n + strayStacksOf(s.count, p.threads), 0),
    strayStacksFitCache: stacks.every(({ p, s }) => strayStacksFitCache(s, p.threads)),
    cpuTicks: processes.reduce((n, p) => n + p.cpuTicks, 0),
    zombies: tree.filter((p) => p.state === 'Z' && members.has(p.ppid)),
  };
}

/**
 * Resident memory of the server's tree, as sampleTree counts it, without the rest of a sample (socket
 * tables, descriptors, mappings): cheap enough to sample every few milliseconds during a flood.
 */
export function treeRss(server: LaunchedTarget): number {
  return processTree(server.serverPid).filter((p) => p.state !== 'Z').reduce((n, p) => n + p.rssPages * PAGE_SIZE, 0);
}

/** "pid(comm) 127.0.0.1:3000<-127.0.0.1:51234 CLOSE_WAIT" for evidence. */
export function describeSocket(s: HeldSocket): string {
  return `${s.pid}(${s.comm}) ${s.row.localAddress}:${s.row.localPort}<-${s.row.remoteAddress}:${s.row.remotePort} ${s.row.state}`;
}

/** "pid(comm) socket:[inode] session" for evidence. */
export function describeUnixSocket(s: HeldUnixSocket): string {
  return `${s.pid}(${s.comm}) socket:[${s.inode}] session`;
}

/** The inodes of the session sockets a sample holds (a server on a Unix socket). */
export function sessionInodes(sample: TreeSample): Set<number> {
  return new Set(sample.unixSessions.map((s) => s.inode));
}

/** Connections the tree holds: its TCP sockets, or its Unix session sockets (what holds still when idle). */
export function heldConnections(sample: TreeSample): number {
  return sample.tcpSockets.length + sample.unixSessions.length;
}

/**
 * Whether the tree holds the server's end of every client's connection (accepted, not waiting in the
 * backlog). Over TCP, by the ports; over a Unix socket, where nothing names the peer, by the session
 * sockets that appeared since `before` (taken before the clients connected), one per client.
 */
export function holdsConnections(sample: TreeSample, clients: ProtocolClient[], before: TreeSample): boolean {
  if (clients.some((c) => c.unixPath !== undefined)) {
    const had = sessionInodes(before);
    return [...sessionInodes(sample)].filter((inode) => !had.has(inode)).length >= clients.length;
  }
  const ports = new Set(sample.tcpSockets.map((h) => h.row.remotePort));
  return clients.every((c) => ports.has(c.localPort));
}

export function describeProcess(p: ProcessInfo): string {
  return `${p.pid}(${p.comm}) ppid ${p.ppid} state ${p.state}`;
}

/** Children of a pid in the sample (direct only). */
export function childrenOf(sample: TreeSample, pid: number): ProcessInfo[] {
  return sample.processes.filter((p) => p.ppid === pid);
}

export const MIB = 1024 * 1024;

/** Counts of each label, as "pipe ×25, /tmp/session.log ×25, socket:tcp CLOSE_WAIT ×3" (largest first). */
export function describeFdCounts(counts: Map<string, number>, limit = 8): string {
  const sorted = [...counts].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, limit).map(([label, n]) => `${label} ×${n}`);
  return sorted.length > limit ? `${shown.join(', ')}, …` : shown.join(', ') || 'none';
}

/** How often each value occurs. */
export function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Descriptors in `after` beyond those in `before`, counted by label. */
export function fdGrowth(before: HeldFd[], after: HeldFd[]): Map<string, number> {
  const had = countBy(before.map((f) => f.label));
  return new Map([...countBy(after.map((f) => f.label))].map(([label, n]): [string, number] => [label, n - (had.get(label) ?? 0)]).filter(([, n]) => n > 0));
}

/** Descriptors of a sample, counted by kind: "socket:tcp 7, pipe 4, epoll 1". */
export function fdsByKind(sample: TreeSample): Map<string, number> {
  return countBy(sample.fds.map((f) => f.kind));
}
