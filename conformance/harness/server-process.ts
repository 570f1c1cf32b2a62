import { ListenAt } from './endpoint';
import { listProcesses, ProcessInfo, readListeners, readProcess, readUnixListeners, socketInodes } from './procfs';

/** Where the server sits in what the kit started: the server process and the launchers above it. */
export interface ServerProcess {
  /** The server process: the process whose tree holds the listening socket (see findServerProcess). */
  pid: number;
  /** Processes from the started command down to the server's parent (empty when the command is the server). */
  launchers: ProcessInfo[];
}

/**
 * Pids among `pids` that hold a listening socket where `at` says: a TCP LISTEN socket on its port (any
 * port when undefined), or a listening Unix stream socket bound to its path. `port`: the port found (for
 * a Unix socket, undefined). `inodes`: the socket inodes of each pid, when the caller has just read them.
 */
export function listenHolders(pids: number[], at: ListenAt, inodes = new Map(pids.map((pid) => [pid, socketInodes(pid)]))): { pids: number[]; port?: number } {
  if (pids.length === 0) return { pids: [] };
  // Most polls come before the server has any socket: then there is no table to read.
  if ([...inodes.values()].every((list) => list.length === 0)) return { pids: [] };
  const listening = new Map<number, number | undefined>();
  if (at.path !== undefined) {
    for (const [inode, path] of readUnixListeners(pids[0])) if (path === at.path) listening.set(inode, undefined);
  } else {
    for (const [inode, p] of readListeners(pids[0])) if (at.port === undefined || p === at.port) listening.set(inode, p);
  }
  const holders: number[] = [];
  let found: number | undefined;
  for (const pid of pids) {
    const held = (inodes.get(pid) ?? []).find((inode) => listening.has(inode));
    if (held !== undefined) {
      holders.push(pid);
      found ??= listening.get(held);
    }
  }
  return { pids: holders, port: found };
}

/** The chain from `pid` up to the root of the snapshot, `pid` first. */
function ancestry(pid: number, byPid: Map<number, ProcessInfo>): number[] {
  const chain: number[] = [];
  for (let p = byPid.get(pid); p && !chain.includes(p.pid); p = byPid.get(p.ppid)) chain.push(p.pid);
  return chain;
}

/**
 * The server process of a started command: the lowest common ancestor of every process holding the
 * listening socket. That is the holder itself for a single process, the master of a pool (whether or not
 * the master kept its own copy of the socket), and never a launcher above them (`npm exec`, `sh -c`,
 * `cargo run`), which holds no listening socket. Holders in separate trees (a daemon that forked away)
 * give the topmost holder.
 */
export function findServerProcess(startedPid: number, holders: number[], snapshot: ProcessInfo[] = listProcesses()): ServerProcess {
  const byPid = new Map(snapshot.map((p) => [p.pid, p]));
  if (holders.length === 0) return { pid: startedPid, launchers: [] };
  const chains = holders.map((h) => ancestry(h, byPid));
  // The deepest pid every chain shares; ancestors of the started command (the kit, init) do not count.
  const outside = new Set(ancestry(startedPid, byPid).slice(1));
  let server = chains[0].find((pid) => !outside.has(pid) && chains.every((c) => c.includes(pid)));
  if (server === undefined) server = [...chains].sort((a, b) => a.length - b.length)[0][0];
  const chain = ancestry(server, byPid);
  const at = chain.indexOf(startedPid);
  const launchers = at > 0 ? chain.slice(1, at + 1).reverse().map((pid) => byPid.get(pid) as ProcessInfo) : [];
  return { pid: server, launchers };
}

/** "npm exec (10) → sh (11) → node (12, the server)", for evidence; undefined when the command is the server itself. */
export function describeLaunch(server: ServerProcess, serverComm = readProcess(server.pid)?.comm ?? 'exited'): string | undefined {
  if (server.launchers.length === 0) return undefined;
  return [...server.launchers.map((p) => `${p.comm} (${p.pid})`), `${serverComm} (${server.pid}, the server)`].join(' → ');
}
