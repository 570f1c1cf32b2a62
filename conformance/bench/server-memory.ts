import { LaunchedTarget } from '../harness/launcher';
import { listProcesses } from '../harness/procfs';

const PAGE_SIZE = 4096;

/** Resident memory of a server's whole process tree, in bytes (0 where /proc is missing). */
export function treeRssBytes(server: LaunchedTarget): number {
  const members = new Set(server.serverPids());
  return listProcesses()
    .filter((p) => members.has(p.pid) && p.state !== 'Z')
    .reduce((sum, p) => sum + p.rssPages * PAGE_SIZE, 0);
}
