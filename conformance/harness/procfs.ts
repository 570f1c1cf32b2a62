import { readFileSync, readdirSync, readlinkSync, existsSync } from 'node:fs';

/** Clock ticks per second of /proc CPU times (USER_HZ, 100 on Linux). */
export const USER_HZ = 100;

/** One row of `/proc/<pid>/stat`, the fields the kit needs. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
  pgrp: number;
  session: number;
  /** user + system CPU time, in clock ticks */
  cpuTicks: number;
  /** user + system CPU time of the children it has reaped, in clock ticks */
  reapedTicks: number;
  threads: number;
  /** resident set size, in pages */
  rssPages: number;
  /** virtual memory size, in bytes */
  vsizeBytes: number;
  /** when the process started, in clock ticks since boot: with the pid, names one process for good */
  startTicks: number;
}

/** TCP socket states as the kernel numbers them in /proc/net/tcp. */
export const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

export interface TcpRow {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: string;
  /** bytes written and not yet acknowledged by the peer (for LISTEN: 0) */
  txQueue: number;
  /** bytes received and not yet read by the owner (for LISTEN: the accept queue's length) */
  rxQueue: number;
  inode: number;
}

/**
 * True while a process with this pid exists, zombies included. EPERM means it exists and belongs to
 * someone else: the kit watches its own processes, so both agree on what "alive" means.
 */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when this machine exposes the /proc files the kit reads. */
export function hasProcfs(): boolean {
  return existsSync('/proc/self/stat') && existsSync('/proc/self/net/tcp');
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process or file vanished between listing and reading: normal
  }
}

/** Parses one stat line; `comm` may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcessInfo | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const comm = text.slice(open + 1, close);
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state) of proc(5)
  return {
    pid, comm, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), session: Number(f[3]),
    cpuTicks: Number(f[11]) + Number(f[12]), reapedTicks: Number(f[13]) + Number(f[14]), threads: Number(f[17]), startTicks: Number(f[19]), vsizeBytes: Number(f[20]), rssPages: Number(f[21]),
  };
}

export function readProcess(pid: number): ProcessInfo | undefined {
  const text = readText(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseStat(text);
}

/** Every process on the machine (a snapshot). */
export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info) out.push(info);
  }
  return out;
}

/**
 * The root and all its descendants (zombies included). Without a snapshot, walks down from the root
 * through /proc/<pid>/task/<tid>/children: the cost is the tree's size, not the machine's process count.
 * Where the kernel lacks those files (CONFIG_PROC_CHILDREN), or given a snapshot, walks the ppid graph.
 */
export function processTree(rootPid: number, snapshot?: ProcessInfo[]): ProcessInfo[] {
  if (snapshot === undefined && hasChildrenFiles()) return walkTree(rootPid);
  const all = snapshot ?? listProcesses();
  const byParent = new Map<number, ProcessInfo[]>();
  for (const p of all) {
    const list = byParent.get(p.ppid) ?? [];
    list.push(p);
    byParent.set(p.ppid, list);
  }
  const root = all.find((p) => p.pid === rootPid);
  if (!root) return [];
  const tree: ProcessInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift() as ProcessInfo;
    tree.push(p);
    queue.push(...(byParent.get(p.pid) ?? []));
  }
  return tree;
}

let childrenFiles: boolean | undefined;
function hasChildrenFiles(): boolean {
  return (childrenFiles ??= existsSync(`/proc/self/task/${process.pid}/children`));
}

/** Children of a process: what each of its threads forked (a child belongs to the thread that forked it). */
function childPids(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone meanwhile
  }
  const children: number[] = [];
  for (const tid of tids) {
    for (const c of (readText(`/proc/${pid}/task/${tid}/children`) ?? '').trim().split(/\s+/)) if (c !== '') children.push(Number(c));
  }
  return children;
}

function walkTree(rootPid: number): ProcessInfo[] {
  const tree: ProcessInfo[] = [];
  const seen = new Set<number>();
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const info = readProcess(pid);
    if (!info) continue;
    tree.push(info);
    // a zombie has no threads left to list children of
    if (info.state !== 'Z') queue.push(...childPids(pid));
  }
  return tree;
}

/** Pids whose environment holds `NAME=value` (finds daemons that left the process group). */
export function pidsWithEnv(name: string, value: string, snapshot: ProcessInfo[] = listProcesses()): number[] {
  const needle = `${name}=${value}`;
  const found: number[] = [];
  for (const p of snapshot) {
    if (p.pid === process.pid) continue;
    const env = readText(`/proc/${p.pid}/environ`);
    if (env !== undefined && env.split('\0').includes(needle)) found.push(p.pid);
  }
  return found;
}

/** Socket inodes held open by one process (its fd table). */
export function socketInodes(pid: number): number[] {
  const inodes: number[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.push(Number(m[1]));
    } catch {
      // the fd closed while we looked
    }
  }
  return inodes;
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    const n = parseInt(hex, 16);
    return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
  }
  // IPv6: four little-endian 32-bit words
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const w = hex.slice(i, i + 8).match(/../g) as string[];
    words.push(w.reverse().join(''));
  }
  const groups = words.join('').match(/..../g) as string[];
  const text = groups.map((g) => parseInt(g, 16).toString(16)).join(':');
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(text);
  if (mapped) {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return text;
}

/** Parses one row of /proc/<pid>/net/tcp or tcp6; undefined for the header or a short line. */
function parseTcpRow(line: string): TcpRow | undefined {
  const f = line.trim().split(/\s+/);
  if (f.length < 10 || f[0] === 'sl') return undefined;
  const [la, lp] = f[1].split(':');
  const [ra, rp] = f[2].split(':');
  const [tx, rx] = f[4].split(':');
  return {
    localAddress: decodeAddress(la), localPort: parseInt(lp, 16),
    remoteAddress: decodeAddress(ra), remotePort: parseInt(rp, 16),
    state: TCP_STATES[f[3]] ?? f[3], txQueue: parseInt(tx, 16), rxQueue: parseInt(rx, 16), inode: Number(f[9]),
  };
}

/** Parses the text of /proc/<pid>/net/tcp or tcp6. */
export function parseTcpTable(text: string): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const row = parseTcpRow(line);
    if (row) rows.push(row);
  }
  return rows;
}

/**
 * The rows of a table text whose local port is `port` (a server's side of its connections, and its
 * LISTEN row). Only lines naming the port are decoded: a sampler reads the table every few milliseconds.
 */
export function parseTcpRowsOfPort(text: string, port: number): TcpRow[] {
  const needle = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const rows: TcpRow[] = [];
  let at = text.indexOf(needle);
  while (at >= 0) {
    const start = text.lastIndexOf('\n', at) + 1;
    const end = text.indexOf('\n', at);
    const row = parseTcpRow(text.slice(start, end < 0 ? undefined : end));
    if (row?.localPort === port) rows.push(row);
    // on from the next line: a row whose both ends name the port is read once
    at = end < 0 ? -1 : text.indexOf(needle, end);
  }
  return rows;
}

/** TCP sockets (v4 and v6) of the network namespace `pid` lives in. */
export function readTcpTable(pid: number | 'self' = 'self'): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const file of ['tcp', 'tcp6']) {
    const text = readText(`/proc/${pid}/net/${file}`);
    if (text !== undefined) rows.push(...parseTcpTable(text));
  }
  return rows;
}

/** How long one read of the listening sockets serves every caller: readiness polls of targets starting side by side. */
const LISTENERS_TTL_MS = 15;
let listenersCache: { at: number; ns: string; listeners: Map<number, number> } | undefined;

/**
 * LISTEN sockets (v4 and v6) of the network namespace `pid` lives in: inode → port. Only LISTEN rows are
 * decoded: the table also holds every connection of the run (thousands in TIME_WAIT), and readiness polls
 * read it every few milliseconds. One read is shared by callers within a few milliseconds of each other.
 */
export function readListeners(pid: number | 'self' = 'self', maxAgeMs = LISTENERS_TTL_MS): Map<number, number> {
  const ns = netNamespace(pid);
  const now = Date.now();
  if (listenersCache && listenersCache.ns === ns && now - listenersCache.at < maxAgeMs) return listenersCache.listeners;
  const listeners = new Map<number, number>();
  for (const file of ['tcp', 'tcp6']) {
    const text = readText(`/proc/${pid}/net/${file}`);
    if (text === undefined) continue;
    // "sl local_address rem_address st ...": state 0A is LISTEN
    for (let at = text.indexOf(' 0A '); at >= 0; at = text.indexOf(' 0A ', at + 4)) {
      const start = text.lastIndexOf('\n', at) + 1;
      const end = text.indexOf('\n', at);
      const f = text.slice(start, end < 0 ? undefined : end).trim().split(/\s+/);
      if (f[3] !== '0A' || f.length < 10) continue;
      listeners.set(Number(f[9]), parseInt(f[1].split(':')[1], 16));
    }
  }
  listenersCache = { at: now, ns, listeners };
  return listeners;
}

function netNamespace(pid: number | 'self'): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return `pid ${pid}`;
  }
}

/**
 * Mappings shaped like pthread stacks in /proc/<pid>/maps (an anonymous read-write mapping directly
 * above a small PROT_NONE guard), and their bytes. Each live thread but the main one has one; so do the
 * stacks of threads that ended without being joined or detached, and the freed stacks glibc caches.
 */
export function threadStacks(pid: number): { count: number; bytes: number } {
  const text = readText(`/proc/${pid}/maps`);
  const stacks = { count: 0, bytes: 0 };
  if (text === undefined) return stacks;
  let prev: { end: number; perms: string; size: number } | undefined;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [lo, hi] = f[0].split('-').map((x) => parseInt(x, 16));
    const anonymous = f.length < 6 || f[5] === '';
    if (prev && prev.end === lo && prev.perms === '---p' && prev.size <= 65536 && f[1] === 'rw-p' && anonymous) {
      stacks.count++;
      stacks.bytes += hi - lo;
    }
    prev = { end: hi, perms: f[1], size: hi - lo };
  }
  return stacks;
}

/** One open descriptor of a process: its number and what /proc/<pid>/fd/<n> links to. */
export interface OpenFd {
  fd: number;
  /** e.g. "socket:[1234]", "pipe:[5678]", "anon_inode:[eventpoll]", "/tmp/session.log" */
  link: string;
}

/** Every descriptor a process holds (empty when the process is gone). */
export function openFds(pid: number): OpenFd[] {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const fds: OpenFd[] = [];
  for (const name of names) {
    try {
      fds.push({ fd: Number(name), link: readlinkSync(`/proc/${pid}/fd/${name}`) });
    } catch {
      // the fd closed while we looked
    }
  }
  return fds;
}

/** One row of /proc/<pid>/net/unix: a Unix-domain socket of the network namespace. */
export interface UnixRow {
  inode: number;
  /** the path it is bound to: a listener's, and the path of every connection it accepted; '' when unbound */
  path: string;
  /** SOCK_STREAM (1), SOCK_DGRAM (2), SOCK_SEQPACKET (5) */
  type: number;
  /** SS_UNCONNECTED (1), SS_CONNECTING (2), SS_CONNECTED (3), SS_DISCONNECTING (4) */
  state: number;
  /** listening: the flag __SO_ACCEPTCON (0x10000), in state SS_UNCONNECTED */
  listening: boolean;
}

const SO_ACCEPTCON = 0x10000;
const SOCK_STREAM = 1;

/**
 * Parses /proc/<pid>/net/unix: "Num RefCount Protocol Flags Type St Inode Path". A connection not yet
 * accepted shows with inode 0 and the listener's path; an abstract socket's path starts with '@'.
 */
export function parseUnixTable(text: string): UnixRow[] {
  const rows: UnixRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const flags = parseInt(f[3], 16);
    const state = parseInt(f[5], 16);
    // A path may hold spaces: it is the rest of the line after the inode.
    const path = f.length > 7 ? line.trim().replace(/^(\S+\s+){7}/, '') : '';
    rows.push({ inode: Number(f[6]), path, type: parseInt(f[4], 16), state, listening: (flags & SO_ACCEPTCON) !== 0 && state === 1 });
  }
  return rows;
}

/** Unix-domain sockets of the network namespace `pid` lives in (empty where the file is missing). */
export function readUnixTable(pid: number | 'self' = 'self'): UnixRow[] {
  return parseUnixTable(readText(`/proc/${pid}/net/unix`) ?? '');
}

/** Listening Unix stream sockets of the network namespace `pid` lives in: inode → path. */
export function readUnixListeners(pid: number | 'self' = 'self'): Map<number, string> {
  const listeners = new Map<number, string>();
  for (const row of readUnixTable(pid)) if (row.listening && row.type === SOCK_STREAM && row.path !== '') listeners.set(row.inode, row.path);
  return listeners;
}

/** Socket inodes of the network namespace `pid` lives in, by family: what a `socket:[inode]` descriptor is. */
export function socketFamilies(pid: number | 'self' = 'self', unixRows: UnixRow[] = readUnixTable(pid)): Map<number, string> {
  const families = new Map<number, string>();
  for (const [file, family] of [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp'], ['raw', 'raw'], ['raw6', 'raw']]) {
    const text = readText(`/proc/${pid}/net/${file}`);
    if (text === undefined) continue;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10) families.set(Number(f[9]), family);
    }
  }
  for (const row of unixRows) families.set(row.inode, 'unix');
  return families;
}

/**
 * The kind of a descriptor, for counting and evidence: `socket:tcp`, `socket:unix`, `pipe`, `eventfd`,
 * `epoll`, `timerfd`, `signalfd`, `inotify`, `device` (/dev/…), `file`, or the anon inode's own name.
 */
export function fdKind(link: string, families: Map<number, string>): string {
  const socket = /^socket:\[(\d+)\]$/.exec(link);
  if (socket) return `socket:${families.get(Number(socket[1])) ?? 'other'}`;
  if (link.startsWith('pipe:')) return 'pipe';
  const anon = /^anon_inode:\[?([^\]]+)\]?$/.exec(link);
  if (anon) return anon[1] === 'eventpoll' ? 'epoll' : anon[1];
  if (link.startsWith('/dev/')) return 'device';
  if (link.startsWith('/')) return 'file';
  return link.replace(/:.*$/, '');
}

/**
 * Nanoseconds each process's threads have spent running or runnable (waiting for a CPU), from
 * /proc/<pid>/task/<tid>/schedstat. A thread that spins is runnable all the time however busy the
 * machine is, while its CPU time shrinks with the load; a thread that sleeps is neither. Processes
 * without the file (a kernel without schedstats, an exited process) are left out.
 */
export function runnableNs(pids: readonly number[]): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited meanwhile
    }
    let total = 0;
    let seen = false;
    for (const tid of tids) {
      const f = (readText(`/proc/${pid}/task/${tid}/schedstat`) ?? '').trim().split(/\s+/);
      if (f.length < 2) continue;
      total += Number(f[0]) + Number(f[1]);
      seen = true;
    }
    if (seen) byPid.set(pid, total);
  }
  return byPid;
}

/**
 * The share of the window the processes were running or runnable, summed over them (a process that
 * appeared meanwhile counts from its start); undefined where schedstat is not there.
 */
export function runnableShare(before: Map<number, number>, after: Map<number, number>, windowMs: number): number | undefined {
  if (after.size === 0 || windowMs <= 0) return undefined;
  let ns = 0;
  for (const [pid, now] of after) ns += Math.max(0, now - (before.get(pid) ?? 0));
  return ns / 1e6 / windowMs;
}
