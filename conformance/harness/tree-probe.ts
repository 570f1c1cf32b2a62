import { LaunchedTarget } from './launcher';
import { listProcesses, ProcessInfo, processTree, readTcpTable, socketInodes, TcpRow, threadStackMappings } from './procfs';

/** A socket descriptor held by a process of the server tree. */
export interface HeldSocket {
  pid: number;
  comm: string;
  row: TcpRow;
}

/** One look at a server's whole process tree through /proc. */
export interface TreeSample {
  at: number;
  processes: ProcessInfo[];
  /** TCP sockets (v4 and v6) held by any process of the tree, one entry per holding process */
  tcpSockets: HeldSocket[];
  threads: number;
  rssBytes: number;
  vsizeBytes: number;
  /** thread-stack mappings beyond the live threads' own: stacks of threads nobody joined (plus a few cached) */
  strayStacks: number;
  cpuTicks: number;
  /** zombies whose parent is in the tree */
  zombies: ProcessInfo[];
}

const PAGE_SIZE = 4096;

/**
 * Samples every live process of the server's tree (the server process and its descendants; launchers
 * above it are not the server's) and the zombies they have not reaped.
 */
export function sampleTree(server: LaunchedTarget): TreeSample {
  const snapshot = listProcesses();
  const processes = processTree(server.serverPid, snapshot).filter((p) => p.state !== 'Z');
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
  return {
    at: Date.now(),
    processes,
    tcpSockets,
    threads: processes.reduce((n, p) => n + p.threads, 0),
    rssBytes: processes.reduce((n, p) => n + p.rssPages * PAGE_SIZE, 0),
    vsizeBytes: processes.reduce((n, p) => n + p.vsizeBytes, 0),
    strayStacks: processes.reduce((n, p) => n + threadStackMappings(p.pid) - (p.threads - 1), 0),
    cpuTicks: processes.reduce((n, p) => n + p.cpuTicks, 0),
    zombies: snapshot.filter((p) => p.state === 'Z' && members.has(p.ppid)),
  };
}

/** "pid(comm) 127.0.0.1:3000<-127.0.0.1:51234 CLOSE_WAIT" for evidence. */
export function describeSocket(s: HeldSocket): string {
  return `${s.pid}(${s.comm}) ${s.row.localAddress}:${s.row.localPort}<-${s.row.remoteAddress}:${s.row.remotePort} ${s.row.state}`;
}

export function describeProcess(p: ProcessInfo): string {
  return `${p.pid}(${p.comm}) ppid ${p.ppid} state ${p.state}`;
}

/** Children of a pid in the sample (direct only). */
export function childrenOf(sample: TreeSample, pid: number): ProcessInfo[] {
  return sample.processes.filter((p) => p.ppid === pid);
}

export const MIB = 1024 * 1024;
